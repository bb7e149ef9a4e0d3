{#- Compliance rates readable without a generic filter: the compliance_rate rows of
    service_indicators (the one place the rate is computed), with columns named for what they
    hold, the service's name, the commitment's label and target in words, and the inclusive last
    day of the period beside its exclusive end. The label and target are those of the version
    in force on the period's last day (or on the night's day when the period has not ended), the
    same version service_indicators takes its threshold from. -#}
with rates as (
    select * from {{ ref('service_indicators') }}
    where indicator = 'compliance_rate'
),

labelled as (
    select
        r.*,
        c.label as commitment_label,
        c.target_label,
        c.reference
    from rates as r
    left join {{ ref('commitments') }} as c
        on c.commitment_id = r.commitment_id
        and c.valid_from <= least(r.period_end - 1, {{ run_day() }})
    qualify row_number() over (
        partition by r.period_grain, r.period_start, r.service_code, r.channel, r.commitment_id
        order by c.valid_from desc
    ) = 1
)

select
    l.period_grain,
    l.period_start,
    cast(l.period_end - 1 as date) as period_last_day,
    l.period_end,
    l.service_code,
    s.service_name,
    l.channel,
    l.commitment_id,
    l.commitment_label,
    l.reference,
    l.numerator as met_count,
    l.denominator - l.numerator as not_met_count,
    l.denominator as decided_count,
    l.value as compliance_rate,
    l.target_value,
    l.target_unit,
    l.target_label,
    l.threshold,
    l.min_volume,
    l.value - l.threshold as gap_to_threshold,
    l.is_breached,
    l.is_final,
    l.is_complete,
    l.completeness_note,
    l.evaluated_as_of
from labelled as l
left join {{ ref('services') }} as s on s.service_code = l.service_code
