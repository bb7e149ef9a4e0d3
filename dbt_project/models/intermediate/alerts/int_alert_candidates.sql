{#- THE alert rules (issue 11): every row the alerts could send, with its stable key and the
    decisions Python must not take again: whether its grain pages heads, whether it is recent
    enough, whether it is held back for incomplete data, and to whom it goes. Python reads this
    table, drops the keys already in alerts.alert_log, renders and sends (vigie/alerts).

    Kinds (DECISIONLOG Part 6 "Alert rules in one place"):
    - overdue / missed: an item, one request late against one commitment (status missed or
      overdue, a deadline, not a call). Items are facts: never held back for incomplete data.
      Key (commitment, service, deadline local date, request_id); the status is not in it, so
      an overdue request answered late later is the same alert.
    - breach: a final period whose compliance rate is breached. Held back (is_withheld) while
      the period is incomplete (service_indicators.is_complete: a source feeding that cell had
      a suspect or failed day in it). Key (commitment, service, 'grain:start', 'breach'); the
      data team's notice of the hold has its own key (withheld_key), so it is told once and the
      breach is sent, once, when the period becomes complete (rerun after the source caught up,
      or the day confirmed).
    - recovered: the final complete period right after a breached one, back at or above the
      threshold on at least min_volume requests; sent only if previous_breach_key was sent.
    - incomplete: a source day judged incomplete (int_source_day_completeness), for the data team.
    Paging: breaches and recoveries at the grains of alerts.breach_grains; every kind only when
    alert_on (deadline date, last day of the period, or the source day) is within
    alerts.max_age_days before the night, counted back from alert_rules.age_counted_from (the
    later of the night and the newest landed night: a night rebuilt after later nights landed
    does not page about what was already old) (is_recent; a deliberate backfill lifts it in
    Python). -#}
with settings as (
    select run_day from {{ source('config', 'settings') }}
),

rules as (
    select breach_grains, max_age_days, age_counted_from from {{ source('config', 'alert_rules') }}
),

heads as (
    select service_code, head_email is not null as has_head from {{ source('config', 'services') }}
),

rates as (
    select * from {{ ref('service_indicators') }} where indicator = 'compliance_rate'
),

-- the source days that leave a breached period incomplete: the data team's commands name them
gap_days as (
    select
        r.commitment_id, r.service_code, r.channel, r.period_grain, r.period_start,
        list(distinct g.source_id || ' ' || strftime(g.local_date, '%Y-%m-%d')
             order by g.source_id || ' ' || strftime(g.local_date, '%Y-%m-%d')) as withheld_source_days
    from rates as r
    inner join {{ ref('int_service_channel_day_gaps') }} as g
        on g.service_code = r.service_code
        and g.channel = r.channel
        and g.commitment_id = r.commitment_id
        and g.local_date >= r.period_start
        and g.local_date < r.period_end
    where r.is_breached and r.is_final and not r.is_complete
    group by all
),

breaches as (
    select
        'breach' as kind,
        commitment_id, service_code, channel,
        period_grain || ':' || strftime(period_start, '%Y-%m-%d') as period,
        'breach' as item,
        period_grain, period_start, period_end,
        cast(period_end - 1 as date) as alert_on,
        numerator, denominator, value, threshold, min_volume, target_value, target_unit,
        not rates.is_complete as is_withheld,
        rates.completeness_note as withheld_reason,
        g.withheld_source_days,
        cast(null as varchar) as previous_breach_key
    from rates
    left join gap_days as g using (commitment_id, service_code, channel, period_grain, period_start)
    where rates.is_breached and rates.is_final
),

recovered as (
    select
        'recovered' as kind,
        cur.commitment_id, cur.service_code, cur.channel,
        cur.period_grain || ':' || strftime(cur.period_start, '%Y-%m-%d') as period,
        'recovered' as item,
        cur.period_grain, cur.period_start, cur.period_end,
        cast(cur.period_end - 1 as date) as alert_on,
        cur.numerator, cur.denominator, cur.value, cur.threshold, cur.min_volume,
        cur.target_value, cur.target_unit,
        false as is_withheld,
        cast(null as varchar) as withheld_reason,
        sha256(concat_ws(chr(31), prev.commitment_id, prev.service_code,
            prev.period_grain || ':' || strftime(prev.period_start, '%Y-%m-%d'), 'breach')) as previous_breach_key
    from rates as cur
    inner join rates as prev
        on prev.is_breached
        and prev.commitment_id = cur.commitment_id
        and prev.service_code = cur.service_code
        and prev.channel = cur.channel
        and prev.period_grain = cur.period_grain
        and prev.period_end = cur.period_start
    where cur.is_final and cur.is_complete and not cur.is_breached
        and cur.value >= cur.threshold and cur.denominator >= cur.min_volume
),

periods as (
    select * from breaches
    union all by name
    select * from recovered
),

items as (
    select
        status as kind,
        commitment_id, service_code, channel,
        strftime(cast(deadline_local_at as date), '%Y-%m-%d') as period,
        request_id as item,
        cast(deadline_local_at as date) as alert_on,
        target_value, target_unit,
        false as is_withheld,
        request_id, request_ref, status, source_id, mailbox, ticket_number, register_id,
        received_at, deadline_at, responded_at,
        received_local_at, deadline_local_at, responded_local_at,
        elapsed_value, elapsed_unit, commitment_version
    from {{ ref('commitment_evaluations') }}
    where status in ('missed', 'overdue') and deadline_at is not null and channel <> 'phone'
),

incomplete as (
    select
        'incomplete' as kind,
        'data_quality' as commitment_id,
        source_id as service_code,
        source_type as channel,
        'day:' || strftime(local_date, '%Y-%m-%d') as period,
        'incomplete' as item,
        'day' as period_grain,
        local_date as period_start,
        cast(local_date + 1 as date) as period_end,
        local_date as alert_on,
        false as is_withheld,
        source_id, source_name, row_count, baseline_mean, p_lower_tail, is_missing,
        incomplete_reason, failure_detail, completeness_note
    from {{ ref('int_source_day_completeness') }}
    where not is_complete
),

candidates as (
    select * from periods
    union all by name
    select * from items
    union all by name
    select * from incomplete
)

select
    sha256(concat_ws(chr(31), c.commitment_id, c.service_code, c.period, c.item)) as alert_key,
    c.kind,
    c.commitment_id,
    c.service_code,
    c.channel,
    c.period,
    c.period_grain,
    c.period_start,
    c.period_end,
    c.alert_on,
    case
        when c.kind = 'incomplete' then 'data_team'
        when coalesce(h.has_head, false) then 'service_head'
        else 'data_team'
    end as recipient_role,
    c.kind not in ('breach', 'recovered') or list_contains(r.breach_grains, c.period_grain) as is_grain_paged,
    c.alert_on between cast(r.age_counted_from - r.max_age_days as date) and s.run_day as is_recent,
    c.is_withheld,
    c.withheld_reason,
    cast(c.withheld_source_days as varchar[]) as withheld_source_days,
    case when c.is_withheld then
        sha256(concat_ws(chr(31), c.commitment_id, c.service_code, c.period, 'withheld'))
    end as withheld_key,
    c.previous_breach_key,
    cast(c.numerator as bigint) as numerator,
    cast(c.denominator as bigint) as denominator,
    cast(c.value as double) as value,
    cast(c.threshold as double) as threshold,
    cast(c.min_volume as integer) as min_volume,
    cast(c.target_value as double) as target_value,
    cast(c.target_unit as varchar) as target_unit,
    cast(c.commitment_version as date) as commitment_version,
    cast(c.request_id as varchar) as request_id,
    cast(c.request_ref as varchar) as request_ref,
    cast(c.status as varchar) as status,
    cast(c.source_id as varchar) as source_id,
    cast(c.mailbox as varchar) as mailbox,
    cast(c.ticket_number as bigint) as ticket_number,
    cast(c.register_id as varchar) as register_id,
    cast(c.received_at as timestamptz) as received_at,
    cast(c.deadline_at as timestamptz) as deadline_at,
    cast(c.responded_at as timestamptz) as responded_at,
    cast(c.received_local_at as timestamp) as received_local_at,
    cast(c.deadline_local_at as timestamp) as deadline_local_at,
    cast(c.responded_local_at as timestamp) as responded_local_at,
    cast(c.elapsed_value as double) as elapsed_value,
    cast(c.elapsed_unit as varchar) as elapsed_unit,
    cast(c.source_name as varchar) as source_name,
    cast(c.row_count as bigint) as row_count,
    cast(c.baseline_mean as double) as baseline_mean,
    cast(c.p_lower_tail as double) as p_lower_tail,
    cast(c.is_missing as boolean) as is_missing,
    cast(c.incomplete_reason as varchar) as incomplete_reason,
    cast(c.failure_detail as varchar) as failure_detail,
    cast(c.completeness_note as varchar) as completeness_note
from candidates as c
cross join settings as s
cross join rules as r
left join heads as h on h.service_code = c.service_code
