-- Satisfaction surveys from survey exports (survey_responses), one row per (source_id, survey
-- id), from the LATEST batch of each source only (each batch is a snapshot of the export).
-- score is null while the survey is unanswered; scale is the best possible score.
with landed as (
    select * from {{ landing_scan('survey_responses') }}
),

latest_batch as (
    select *
    from landed
    qualify cast(day as date) = max(cast(day as date)) over (partition by source_id)
)

select
    cast(source_id as varchar) as source_id,
    cast(source_file as varchar) as source_file,
    cast(source_line as bigint) as source_line,
    cast(response_id as varchar) as response_id,
    cast(request_ref as varchar) as request_ref,
    cast(sent_at as timestamptz) as sent_at,
    cast(answered_at as timestamptz) as answered_at,
    cast(score as double) as score,
    cast(scale as integer) as scale,
    cast(service_code as varchar) as service_code,
    cast(channel as varchar) as channel,
    cast(day as date) as landed_day
from latest_batch
