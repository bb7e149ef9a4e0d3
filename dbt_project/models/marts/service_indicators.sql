{#- Indicators per period (day, ISO week from Monday, month), service and channel.
    compliance_rate (per commitment): met / (met + missed + overdue) over the evaluations whose
    counted_on (local date of the deadline; receipt for calls and commitments without target,
    decided in int_commitment_evaluations) falls in the period. Pending and excluded are not in
    the denominator. Breached when the rate is below the threshold and the denominator reaches
    min_volume. Targets shown are those of the version in force at the period's last day (or the
    run day, whichever is earlier).
    requests_received / requests_excluded (per service and channel): by local date of receipt.
    Only periods that start on or before the run day; is_final once the period ended by as_of. -#}
with grains as (
    {{ period_grains() }}
),

evaluations as (
    select * from {{ ref('int_commitment_evaluations') }}
),

versions as (
    select * from {{ ref('int_commitment_versions') }}
),

-- Issue 16: evaluations and requests are added up per day first, then per period (counts add).
evaluation_days as (
    select
        counted_on,
        service_code,
        channel,
        commitment_id,
        count(*) filter (where status = 'met') as met,
        count(*) filter (where {{ is_decided('status') }}) as decided
    from evaluations
    group by all
),

compliance_counts as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'e.counted_on') }} as period_start,
        e.service_code,
        e.channel,
        e.commitment_id,
        cast(sum(e.met) as bigint) as met,
        cast(sum(e.decided) as bigint) as decided
    from evaluation_days as e
    cross join grains as g
    where {{ period_start('g.period_grain', 'e.counted_on') }} <= {{ run_day() }}
    group by all
),

periods as (
    select
        *,
        {{ period_end('period_grain', 'period_start') }} as period_end_ts
    from compliance_counts
),

with_targets as (
    select
        p.*,
        v.target_value,
        v.target_unit,
        v.threshold,
        v.min_volume
    from periods as p
    {{ join_version_in_force('p', 'versions', 'cast(p.period_end_ts as date) - 1') }}
),

compliance as (
    select
        period_grain,
        period_start,
        cast(period_end_ts as date) as period_end,
        service_code,
        channel,
        commitment_id,
        'compliance_rate' as indicator,
        met as numerator,
        decided as denominator,
        case when decided > 0 then met / decided end as value,
        target_value,
        target_unit,
        threshold,
        min_volume,
        coalesce(decided > 0 and met / decided < threshold and decided >= min_volume, false) as is_breached
    from with_targets
),

request_days as (
    select
        received_on,
        service_code,
        channel,
        count(*) as received,
        count(*) filter (where is_excluded) as excluded
    from ({{ request_receipt_days() }})
    group by all
),

volume_counts as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'r.received_on') }} as period_start,
        r.service_code,
        r.channel,
        cast(sum(r.received) as bigint) as received,
        cast(sum(r.excluded) as bigint) as excluded
    from request_days as r
    cross join grains as g
    group by all
),

volumes as (
    select
        period_grain,
        period_start,
        cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
        service_code,
        channel,
        cast(null as varchar) as commitment_id,
        indicator,
        numerator,
        denominator,
        cast(numerator as double) as value,
        cast(null as double) as target_value,
        cast(null as varchar) as target_unit,
        cast(null as double) as threshold,
        cast(null as integer) as min_volume,
        false as is_breached
    from volume_counts
    cross join lateral (
        values
            ('requests_received', received, cast(null as bigint)),
            ('requests_excluded', excluded, received)
    ) as v (indicator, numerator, denominator)
),

unioned as (
    select * from compliance
    union all by name
    select * from volumes
),

-- Completeness (issue 7): a period is incomplete when one of its days, up to the night, lacks
-- data from a source feeding the service, channel and commitment (int_service_channel_day_gaps;
-- issue 11: commitment_id null = the cell's volume rows).
period_gaps as (
    -- Issue 16: each gap day is placed in its period of every grain (period_start, as the rows
    -- above), an equi-join on the cell rather than a range join on its dates.
    select
        gr.period_grain as gap_grain,
        {{ period_start('gr.period_grain', 'g.local_date') }} as gap_start,
        g.service_code as gap_service,
        g.channel as gap_channel,
        g.commitment_id as gap_commitment,
        string_agg(distinct g.completeness_note, '; ' order by g.completeness_note) as completeness_note
    from {{ ref('int_service_channel_day_gaps') }} as g
    cross join grains as gr
    where g.service_code is not null
      and g.channel is not null
    group by all
)

select
    period_grain,
    period_start,
    period_end,
    service_code,
    channel,
    commitment_id,
    indicator,
    cast(numerator as bigint) as numerator,
    cast(denominator as bigint) as denominator,
    cast(value as double) as value,
    cast(target_value as double) as target_value,
    target_unit,
    cast(threshold as double) as threshold,
    cast(min_volume as integer) as min_volume,
    is_breached,
    {{ is_period_final('period_end') }} as is_final,
    {{ as_of() }} as evaluated_as_of,
    pg.completeness_note is null as is_complete,
    pg.completeness_note
from unioned
left join period_gaps as pg
    on pg.gap_grain = unioned.period_grain
    and pg.gap_start = unioned.period_start
    and pg.gap_service is not distinct from unioned.service_code
    and pg.gap_channel = unioned.channel
    and pg.gap_commitment is not distinct from unioned.commitment_id
