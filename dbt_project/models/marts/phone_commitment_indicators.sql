{#- Answered within T, per phone commitment, period (day, ISO week, month) and service: read from
    the commitment engine (int_commitment_evaluations), never recomputed. A call evaluation is
    met when an agent answered within the target (or, without a target, when it was answered),
    missed otherwise; short abandons and out-of-hours calls are excluded by the engine. So
    answered_within_target / calls_offered is the Marianne reading "answered within T / offered"
    (domain.md §5). Periods by counted_on (the receipt's local date for calls). Targets and
    threshold: the version in force at the period's last day (or the run day if earlier).
    Every phone call is here, queue_log and CDR-only sites alike: the engine reads
    int_requests_unioned, which stacks both call models (the same calls as int_phone_calls_unioned,
    which phone_indicators reads). -#}
with grains as (
    {{ period_grains() }}
),

evaluations as (
    select commitment_id, service_code, status, counted_on
    from {{ ref('int_commitment_evaluations') }}
    where channel = 'phone'
),

-- Issue 16: counted per day first, then per period (counts add), rather than every evaluation
-- once per grain.
evaluation_days as (
    select
        counted_on,
        service_code,
        commitment_id,
        count(*) filter (where status = 'met') as answered_within_target,
        count(*) filter (where {{ is_decided('status') }}) as calls_offered,
        count(*) filter (where status = 'excluded') as calls_excluded
    from evaluations
    group by all
),

periods as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'e.counted_on') }} as period_start,
        e.*
    from evaluation_days as e
    cross join grains as g
),

counted as (
    select
        period_grain,
        period_start,
        cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
        service_code,
        commitment_id,
        cast(sum(answered_within_target) as bigint) as answered_within_target,
        cast(sum(calls_offered) as bigint) as calls_offered,
        cast(sum(calls_excluded) as bigint) as calls_excluded
    from periods
    where period_start <= {{ run_day() }}
    group by all
),

with_targets as (
    select
        c.*,
        v.target_value,
        v.target_unit,
        v.threshold
    from counted as c
    {{ join_version_in_force('c', ref('int_commitment_versions'), 'c.period_end - 1') }}
)

select
    period_grain,
    period_start,
    period_end,
    service_code,
    commitment_id,
    cast(target_value as double) as target_value,
    cast(target_unit as varchar) as target_unit,
    cast(threshold as double) as threshold,
    cast(answered_within_target as bigint) as answered_within_target,
    cast(calls_offered as bigint) as calls_offered,
    cast(calls_excluded as bigint) as calls_excluded,
    case when calls_offered > 0 then answered_within_target / calls_offered end as answered_within_target_rate,
    {{ is_period_final('period_end') }} as is_final
from with_targets
