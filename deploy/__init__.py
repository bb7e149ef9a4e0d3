"""Deployment helpers: the compose file's environment read once (``compose_env``), the admin
password of the API server (``admin_password``) and the production smoke test
(``smoke_production``, ``make smoke-production``)."""
