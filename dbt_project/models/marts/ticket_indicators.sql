{#- Tickets (GLPI) and letters / other tools (request registers) per period (day, ISO week,
    month), service and channel, in long form (one row per indicator):
    * requests_received, complaints_received (numerator complaints, denominator received): by
      local date of receipt;
    * <metric>_within_commitment per commitment (first_response: letters answered in time;
      acknowledgement: the Services Publics+ one / two weeks): met / (met + missed + overdue),
      read from the commitment engine (int_commitment_evaluations), counted by its counted_on;
    * resolution_days_mean / resolution_days_median: wall-clock days from receipt to resolution
      (time spent pending already taken out of resolved_at), by local date of resolution;
    * backlog (grain 'day', the night only): requests still open as of the night, per age band
      (calendar days since the local date of receipt: 0-7, 8-14, 15-30, 31-60, 61+);
    * survey_response_rate, satisfied_share: surveys about these requests, by local date sent.
    Open = no resolution known; a register row without a resolution column is closed by its
    response. -#}
with grains as (
    {{ period_grains() }}
),

ticket_requests as (
    select
        request_id, 'glpi' as source_system, service_code, channel, received_at,
        first_response_at, resolved_at, is_complaint
    from {{ ref('int_tickets_responded') }}
    union all
    select
        request_id, 'request_register' as source_system, service_code, channel, received_at,
        first_response_at, resolved_at, is_complaint
    from {{ ref('int_register_requests') }}
),

requests as (
    select
        *,
        {{ local_date('received_at') }} as received_on,
        {{ local_date('resolved_at') }} as resolved_on,
        resolved_at is null
            and (source_system = 'glpi' or first_response_at is null) as is_open
    from ticket_requests
    where received_at < {{ as_of() }}
),

evaluations as (
    select e.*
    from {{ ref('int_commitment_evaluations') }} as e
    inner join requests as r
        on e.request_id = r.request_id
),

surveys as (
    select s.*
    from {{ ref('int_satisfaction_surveys') }} as s
    left join requests as r
        on s.request_id = r.request_id
    where s.source_system = 'glpi' or r.request_id is not null
),

volumes as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'r.received_on') }} as period_start,
        r.service_code,
        r.channel,
        count(*) as received,
        count(*) filter (where r.is_complaint) as complaints
    from requests as r
    cross join grains as g
    group by all
),

compliance as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'e.counted_on') }} as period_start,
        e.service_code,
        e.channel,
        e.commitment_id,
        e.metric,
        count(*) filter (where e.status = 'met') as met,
        count(*) filter (where {{ is_decided('e.status') }}) as decided
    from evaluations as e
    cross join grains as g
    group by all
),

resolutions as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'r.resolved_on') }} as period_start,
        r.service_code,
        r.channel,
        count(*) as resolved,
        -- the mean of whole milliseconds (an exact integer sum), not of doubles: a parallel sum
        -- of doubles depends on the order of the rows and changed the last digit between reruns
        avg(epoch_ms(r.resolved_at) - epoch_ms(r.received_at)) / 86400000.0 as mean_days,
        median((epoch(r.resolved_at) - epoch(r.received_at)) / 86400.0) as median_days
    from requests as r
    cross join grains as g
    where r.resolved_at is not null
    group by all
),

backlog as (
    select
        'day' as period_grain,
        {{ run_day() }} as period_start,
        service_code,
        channel,
        {{ backlog_age_band('received_on') }} as age_band,
        count(*) as open_requests
    from requests
    where is_open
    group by all
),

satisfaction as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 's.sent_on') }} as period_start,
        s.service_code,
        s.channel,
        count(*) as sent,
        count(*) filter (where s.is_answered) as answered,
        count(*) filter (where s.is_satisfied) as satisfied
    from surveys as s
    cross join grains as g
    group by all
),

indicators as (
    select period_grain, period_start, service_code, channel, 'requests_received' as indicator,
        cast(null as varchar) as commitment_id, cast(null as varchar) as age_band,
        received as numerator, cast(null as bigint) as denominator,
        cast(received as double) as value, 'requests' as unit
    from volumes
    union all
    select period_grain, period_start, service_code, channel, 'complaints_received', null, null,
        complaints, received, complaints / received, 'share'
    from volumes
    union all
    select period_grain, period_start, service_code, channel, metric || '_within_commitment',
        commitment_id, null, met, decided, case when decided > 0 then met / decided end, 'share'
    from compliance
    union all
    select period_grain, period_start, service_code, channel, 'resolution_days_mean', null, null,
        resolved, null, mean_days, 'calendar_days'
    from resolutions
    union all
    select period_grain, period_start, service_code, channel, 'resolution_days_median', null, null,
        resolved, null, median_days, 'calendar_days'
    from resolutions
    union all
    select period_grain, period_start, service_code, channel, 'backlog', null, age_band,
        open_requests, null, cast(open_requests as double), 'requests'
    from backlog
    union all
    select period_grain, period_start, service_code, channel, 'survey_response_rate', null, null,
        answered, sent, answered / sent, 'share'
    from satisfaction
    union all
    select period_grain, period_start, service_code, channel, 'satisfied_share', null, null,
        satisfied, answered, case when answered > 0 then satisfied / answered end, 'share'
    from satisfaction
)

select
    cast(period_grain as varchar) as period_grain,
    cast(period_start as date) as period_start,
    cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
    cast(service_code as varchar) as service_code,
    cast(channel as varchar) as channel,
    cast(indicator as varchar) as indicator,
    cast(commitment_id as varchar) as commitment_id,
    cast(age_band as varchar) as age_band,
    cast(numerator as bigint) as numerator,
    cast(denominator as bigint) as denominator,
    cast(value as double) as value,
    cast(unit as varchar) as unit,
    {{ is_period_final(period_end('period_grain', 'period_start')) }} as is_final,
    {{ as_of() }} as evaluated_as_of
from indicators
where period_start <= {{ run_day() }}
