{#- One row per commitment version and service it covers ('all' already expanded by
    vigie/warehouse_config.py). A commitment changed on a date is a new version from that date:
    the version in force on the local date of receipt judges a request, so history keeps the old
    rule. Several rows with the same commitment_id are versions; each one ends at the next
    version's valid_from, or at its own valid_to (exclusive), whichever comes first. -#}
with commitments as (
    select * from {{ source('config', 'commitments') }}
),

bounded as (
    select
        *,
        lead(valid_from) over (partition by commitment_id order by valid_from) as next_valid_from
    from commitments
)

select
    b.commitment_id,
    b.label,
    b.channel,
    b.metric,
    b.target_value,
    b.target_unit,
    b.threshold,
    b.min_volume,
    b.reference,
    -- null: every request of the channel; 'complaint': only requests with is_complaint
    b.request_kind,
    b.valid_from,
    case
        when b.next_valid_from is null then b.valid_to
        when b.valid_to is null then b.next_valid_from
        else least(b.valid_to, b.next_valid_from)
    end as valid_to,
    s.service_code
from bounded as b
-- each version has its own scope (a version may add or drop services)
inner join {{ source('config', 'commitment_services') }} as s
    on s.commitment_id = b.commitment_id and s.valid_from = b.valid_from
