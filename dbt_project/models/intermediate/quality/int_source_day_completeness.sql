{#- Freshness and volume of every landed source, one row per source and business day of the
    collectivité from the source's first landed day to the night's day.
    - Business day: Monday-Friday, not a non-worked public holiday, not a closure of the whole
      collectivité (a closure of one service does not stop a shared PBX or mail server).
      Weekends and holidays are not checked: no data there is normal.
    - missing: no row landed that day (no batch, or a batch of zero rows).
    - low volume: row_count < volume_ratio x the median row_count of the same weekday over the
      previous baseline_weeks weeks (business days with data only: a past gap must not lower
      the baseline), judged only when at least min_baseline_days such days exist.
    Thresholds: config.quality (vigie.yml `quality`). -#}
with settings as (
    select run_day from {{ source('config', 'settings') }}
),

quality as (
    select volume_ratio, baseline_weeks, min_baseline_days from {{ source('config', 'quality') }}
),

counts as (
    select * from {{ ref('int_source_day_row_counts') }}
),

sources as (
    select source_id, min(source_type) as source_type, min(local_date) as first_day
    from counts
    group by source_id
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
        cast(unnest(generate_series(
            cast(s.first_day as timestamp), cast(r.run_day as timestamp), interval 1 day
        )) as date) as local_date
    from sources as s
    cross join settings as r
    where s.first_day <= r.run_day
),

business_days as (
    select
        d.source_id,
        d.source_type,
        d.local_date,
        cast(isodow(d.local_date) as integer) as isodow,
        coalesce(c.row_count, 0) as row_count
    from days as d
    left join counts as c on c.source_id = d.source_id and c.local_date = d.local_date
    where isodow(d.local_date) <= 5
        and d.local_date not in (select holiday_on from holidays)
        and d.local_date not in (select closed_on from closures)
),

baselines as (
    select
        b.source_id,
        b.local_date,
        median(p.row_count) as baseline_median,
        count(p.row_count) as baseline_days
    from business_days as b
    cross join quality as q
    inner join business_days as p
        on p.source_id = b.source_id
        and p.isodow = b.isodow
        and p.local_date < b.local_date
        and p.local_date >= b.local_date - 7 * q.baseline_weeks
        and p.row_count > 0
    group by b.source_id, b.local_date
),

flagged as (
    select
        b.source_id,
        b.source_type,
        b.local_date,
        b.row_count,
        cast(l.baseline_median as double) as baseline_median,
        cast(coalesce(l.baseline_days, 0) as integer) as baseline_days,
        b.row_count = 0 as is_missing,
        coalesce(
            b.row_count > 0
            and l.baseline_days >= q.min_baseline_days
            and b.row_count < q.volume_ratio * l.baseline_median,
            false
        ) as is_low_volume,
        q.volume_ratio
    from business_days as b
    cross join quality as q
    left join baselines as l on l.source_id = b.source_id and l.local_date = b.local_date
)

select
    source_id,
    source_type,
    local_date,
    row_count,
    baseline_median,
    baseline_days,
    is_missing,
    is_low_volume,
    not (is_missing or is_low_volume) as is_complete,
    case
        when is_missing then source_id || ' ' || strftime(local_date, '%Y-%m-%d') || ': no data'
        when is_low_volume then
            source_id || ' ' || strftime(local_date, '%Y-%m-%d') || ': ' || row_count || ' rows, below '
            || cast(round(volume_ratio * 100) as integer) || ' % of the weekday median '
            || cast(baseline_median as varchar)
    end as completeness_note
from flagged
