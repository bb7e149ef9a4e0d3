{#- The services dimension of the BI contract: one row per configured service, with its name and
    the collectivité's, so that dashboards show names and not only codes. The head's name and
    address stay out (agents are not a subject of the BI tables; routing lives in vigie.yml). -#}
select
    s.service_code,
    s.service_name,
    st.collectivite_name,
    st.timezone
from {{ source('config', 'services') }} as s
cross join {{ source('config', 'settings') }} as st
