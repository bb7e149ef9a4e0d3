{#- Is each source's business day complete? One row per source and business day of the
    collectivité (Mon-Fri, not a non-worked holiday, not a closure of the whole collectivité)
    from the source's first landed (or failed) day to the night, plus any day whose extract
    failed, whatever its weekday.

    Judged as a probability, not a ratio (DECISIONLOG Part 6 "Completeness that fits small
    volumes"): with baseline_mean = the mean row_count of the same weekday over the previous
    quality.baseline_weeks weeks (business days, zero days included, failed days left out),
    judged with at least quality.min_baseline_days such days,
        p_lower_tail = P(X <= row_count | X ~ Poisson(baseline_mean))
    and the day is suspect when p_lower_tail < alerts.completeness_alpha (default 0.001). So a
    quiet day at small volume is ordinary chance (1 ticket where the mean is 5.5: p = 0.027), a
    silent day at normal volume is not (40 rows where the mean is 400: p ~ 1e-124).

    DuckDB has no Poisson CDF: the pmf terms exp(-m + i ln m - lgamma(i + 1)), i = 0..row_count,
    are summed in log space (no overflow; terms below 1e-308 underflow to 0, far below any
    alpha). They are summed only when row_count < baseline_mean, so never more than
    baseline_mean terms per day: from row_count >= mean on, P(X <= row_count) >= 1/2 (the
    Poisson median lies below mean + 1/3), never below alpha (< 0.5 by configuration), and
    p_lower_tail is left null ("not low").

    A failed extract (_FAILED.json, int_source_day_markers) makes the day incomplete without
    any statistics; a day the data team confirmed (_CONFIRMED.json) is complete whatever its
    count or marker. -#}
with settings as (
    select run_day from {{ source('config', 'settings') }}
),

quality as (
    select baseline_weeks, min_baseline_days from {{ source('config', 'quality') }}
),

rules as (
    select completeness_alpha from {{ source('config', 'alert_rules') }}
),

counts as (
    select * from {{ ref('int_source_day_row_counts') }}
),

markers as (
    select
        source_id,
        local_date,
        bool_or(marker = 'failed') as is_failed,
        bool_or(marker = 'confirmed') as is_confirmed,
        min(detail) filter (where marker = 'failed') as failure_detail
    from {{ ref('int_source_day_markers') }}
    group by source_id, local_date
),

configured as (
    -- the family a configured type lands in (the table int_source_day_row_counts counts)
    select
        source_id,
        source_name,
        case
            when source_type in ('asterisk_queue_log', 'asterisk_queue_log_sql') then 'asterisk_queue_log'
            when source_type in ('asterisk_cdr_csv', 'asterisk_cdr_sql', 'wazo_cdr') then 'asterisk_cdr_csv'
            when source_type in ('maildir', 'imap', 'mbox') then 'maildir'
            else source_type
        end as source_type
    from {{ source('config', 'sources') }}
),

sources as (
    select
        s.source_id,
        coalesce(min(s.source_type), min(c.source_type)) as source_type,
        coalesce(min(c.source_name), s.source_id) as source_name,
        min(s.first_day) as first_day
    from (
        select source_id, source_type, local_date as first_day from counts
        union all
        select source_id, null as source_type, local_date as first_day from markers where is_failed
    ) as s
    left join configured as c on c.source_id = s.source_id
    group by s.source_id
),

holidays as (
    select holiday_on
    from {{ source('config', 'public_holidays') }}
    group by holiday_on
    having not bool_and(is_worked)
),

closures as (
    select distinct closed_on from {{ source('config', 'closures') }} where service_code is null
),

days as (
    select
        s.source_id,
        s.source_type,
        s.source_name,
        cast(unnest(generate_series(
            cast(s.first_day as timestamp), cast(r.run_day as timestamp), interval 1 day
        )) as date) as local_date
    from sources as s
    cross join settings as r
    where s.first_day <= r.run_day
),

spine as (
    select
        d.source_id,
        d.source_type,
        d.source_name,
        d.local_date,
        cast(isodow(d.local_date) as integer) as isodow,
        isodow(d.local_date) <= 5
            and d.local_date not in (select holiday_on from holidays)
            and d.local_date not in (select closed_on from closures) as is_business_day,
        cast(coalesce(c.row_count, 0) as bigint) as row_count,
        coalesce(m.is_failed, false) as is_failed,
        coalesce(m.is_confirmed, false) as is_confirmed,
        m.failure_detail
    from days as d
    left join counts as c on c.source_id = d.source_id and c.local_date = d.local_date
    left join markers as m on m.source_id = d.source_id and m.local_date = d.local_date
),

baselines as (
    select
        b.source_id,
        b.local_date,
        avg(p.row_count) as baseline_mean,
        count(p.row_count) as baseline_days
    from spine as b
    cross join quality as q
    inner join spine as p
        on p.source_id = b.source_id
        and p.isodow = b.isodow
        and p.local_date < b.local_date
        and p.local_date >= b.local_date - 7 * q.baseline_weeks
        and p.is_business_day
        and not p.is_failed
    where b.is_business_day
    group by b.source_id, b.local_date
),

judged as (
    select
        s.*,
        cast(l.baseline_mean as double) as baseline_mean,
        cast(coalesce(l.baseline_days, 0) as integer) as baseline_days,
        case
            when not s.is_failed
                and l.baseline_days >= q.min_baseline_days
                and l.baseline_mean > 0
                and s.row_count < l.baseline_mean
                then least(1.0, list_sum(list_transform(
                    range(0, s.row_count + 1),
                    lambda i: exp(-l.baseline_mean + i * ln(l.baseline_mean) - lgamma(i + 1))
                )))
        end as p_lower_tail,
        r.completeness_alpha
    from spine as s
    cross join quality as q
    cross join rules as r
    left join baselines as l on l.source_id = s.source_id and l.local_date = s.local_date
    where s.is_business_day or s.is_failed
),

flagged as (
    select
        *,
        coalesce(p_lower_tail < completeness_alpha, false) as is_suspect,
        strftime(local_date, '%d/%m/%Y') as day_fr
    from judged
)

select
    source_id,
    source_name,
    source_type,
    local_date,
    row_count,
    baseline_mean,
    baseline_days,
    p_lower_tail,
    row_count = 0 as is_missing,
    is_suspect,
    is_failed,
    is_confirmed,
    is_confirmed or not (is_failed or is_suspect) as is_complete,
    case
        when is_confirmed then null
        when is_failed then 'failed'
        when is_suspect then 'suspect'
    end as incomplete_reason,
    failure_detail,
    case
        when is_confirmed then null
        when is_failed then
            source_name || ' : extraction du ' || day_fr || ' en échec'
            || coalesce(' (' || left(failure_detail, 200) || ')', '')
        when is_suspect then
            source_name || ' : ' || row_count || (case when row_count < 2 then ' ligne' else ' lignes' end)
            || ' le ' || day_fr || ' pour une moyenne de '
            -- '5,5', '400' (not '400,0'): as a person writes a mean
            || regexp_replace(replace(cast(round(baseline_mean, 1) as varchar), '.', ','), ',0$', '')
            || ' ce jour de semaine (probabilité '
            || case
                when p_lower_tail < 0.0001 then 'inférieure à 0,01 %'
                else replace(cast(round(p_lower_tail * 100, 2) as varchar), '.', ',') || ' %'
            end
            || ')'
    end as completeness_note
from flagged
