{#- Email requests (mailboxes read by the maildir / imap / mbox connectors) per period (day,
    ISO week, month) and service, in long form (one row per indicator):
    * requests_received: every inbound message that opened a request row, exclusions included
      (the same definition as service_indicators.requests_received), by local date of receipt;
    * requests_excluded: the part set aside (auto-replies, bounces, spam, lists, internal
      senders) / requests_received, by local date of receipt;
    * reminders_per_request: reminders (further citizen messages before the reply) / citizens'
      requests (received - excluded), by local date of receipt of the request;
    * first_response_business_days_mean / _median / _p90: the engine's elapsed value of the
      email first-response commitments measured in business days (int_commitment_evaluations:
      business days are never recomputed here), for requests answered, by local date of the
      response; one value per request;
    * <metric>_within_commitment per commitment (first_response, acknowledgement): met /
      (met + missed + overdue), read from the engine, counted by its counted_on;
    * backlog (grain 'day', the night only): requests without a response as of the night, per
      age band (calendar days since the local date of receipt: 0-7, 8-14, 15-30, 31-60, 61+);
    * receipt_skew_hours_median, date_header_skewed_share: data quality of the senders' Date
      header against the server's receipt time (|skew| > 24 h counts as skewed), over inbound
      messages by local date of receipt.
    Rules: DECISIONLOG.md "Email indicators". -#}
with grains as (
    {{ period_grains() }}
),

identified_rows as (
    select
        service_code,
        is_excluded,
        reminder_count,
        {{ local_date('received_at') }} as received_on
    from {{ ref('int_email_requests_identified') }}
    where received_at < {{ as_of() }}
),

email_requests as (
    select
        request_id,
        service_code,
        received_at,
        first_response_at,
        reminder_count,
        {{ local_date('received_at') }} as received_on
    from {{ ref('int_email_requests_identified') }}
    where not is_excluded
      and received_at < {{ as_of() }}
),

evaluations as (
    select e.*
    from {{ ref('int_commitment_evaluations') }} as e
    inner join email_requests as r
        on e.request_id = r.request_id
),

response_delays as (
    -- one elapsed value per answered request (several first-response commitments in business
    -- days measure the same span: the engine gives them the same value)
    select
        request_id,
        service_code,
        {{ local_date('min(responded_at)') }} as responded_on,
        min(elapsed_value) as business_days
    from evaluations
    where metric = 'first_response'
      and elapsed_unit = 'business_days'
      and responded_at is not null
      and status <> 'excluded'
    group by request_id, service_code
),

inbound_messages as (
    select
        coalesce(m.service_code, s.landed_service_code) as service_code,
        {{ local_date('s.received_at') }} as received_on,
        s.receipt_skew_seconds
    from {{ ref('stg_email__messages') }} as s
    left join {{ source('config', 'mailboxes') }} as m
        on s.source_id = m.source_id
        and s.mailbox = m.mailbox
    where s.folder_role = 'inbox'
      and s.received_at < {{ as_of() }}
),

volumes as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'r.received_on') }} as period_start,
        r.service_code,
        count(*) as received,
        count(*) filter (where r.is_excluded) as excluded,
        count(*) filter (where not r.is_excluded) as citizen_requests,
        sum(r.reminder_count) filter (where not r.is_excluded) as reminders
    from identified_rows as r
    cross join grains as g
    group by all
),

delays as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'd.responded_on') }} as period_start,
        d.service_code,
        count(*) as responded,
        avg(d.business_days) as mean_days,
        median(d.business_days) as median_days,
        quantile_cont(d.business_days, 0.9) as p90_days
    from response_delays as d
    cross join grains as g
    group by all
),

compliance as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'e.counted_on') }} as period_start,
        e.service_code,
        e.commitment_id,
        e.metric,
        count(*) filter (where e.status = 'met') as met,
        count(*) filter (where {{ is_decided('e.status') }}) as decided
    from evaluations as e
    cross join grains as g
    where e.metric in ('first_response', 'acknowledgement')
    group by all
),

backlog as (
    select
        'day' as period_grain,
        {{ run_day() }} as period_start,
        service_code,
        {{ backlog_age_band('received_on') }} as age_band,
        count(*) as pending
    from email_requests
    where first_response_at is null
    group by all
),

skews as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 'i.received_on') }} as period_start,
        i.service_code,
        count(i.receipt_skew_seconds) as dated,
        count(*) filter (where abs(i.receipt_skew_seconds) > 86400) as skewed,
        median(i.receipt_skew_seconds) / 3600.0 as median_hours
    from inbound_messages as i
    cross join grains as g
    group by all
),

indicators as (
    select period_grain, period_start, service_code, 'requests_received' as indicator,
        cast(null as varchar) as commitment_id, cast(null as varchar) as age_band,
        received as numerator, cast(null as bigint) as denominator,
        cast(received as double) as value, 'requests' as unit
    from volumes
    union all
    select period_grain, period_start, service_code, 'requests_excluded', null, null,
        excluded, received, excluded / received, 'share'
    from volumes
    union all
    select period_grain, period_start, service_code, 'reminders_per_request', null, null,
        reminders, citizen_requests, reminders / citizen_requests, 'reminders'
    from volumes
    where citizen_requests > 0
    union all
    select period_grain, period_start, service_code, 'first_response_business_days_mean', null,
        null, responded, null, mean_days, 'business_days'
    from delays
    union all
    select period_grain, period_start, service_code, 'first_response_business_days_median', null,
        null, responded, null, median_days, 'business_days'
    from delays
    union all
    select period_grain, period_start, service_code, 'first_response_business_days_p90', null,
        null, responded, null, p90_days, 'business_days'
    from delays
    union all
    select period_grain, period_start, service_code, metric || '_within_commitment',
        commitment_id, null, met, decided, case when decided > 0 then met / decided end, 'share'
    from compliance
    union all
    select period_grain, period_start, service_code, 'backlog', null, age_band,
        pending, null, cast(pending as double), 'requests'
    from backlog
    union all
    select period_grain, period_start, service_code, 'receipt_skew_hours_median', null, null,
        dated, null, median_hours, 'hours'
    from skews
    where dated > 0
    union all
    select period_grain, period_start, service_code, 'date_header_skewed_share', null, null,
        skewed, dated, skewed / dated, 'share'
    from skews
    where dated > 0
)

select
    cast(period_grain as varchar) as period_grain,
    cast(period_start as date) as period_start,
    cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
    cast(service_code as varchar) as service_code,
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
