{#- Satisfaction per period (day, ISO week from Monday, month), service, channel and survey
    scale (a 0-5 GLPI survey and a 0-10 survey are never averaged together), counted by the
    local date the survey was SENT: the response rate of a period is answered / sent among the
    surveys sent in it. A survey answered later moves its period's figures until the answer is
    known; is_final only says the period's sending days are over.
    satisfied_share = satisfied / answered (>= 4/5, >= 8/10); mean_score on the survey's own
    scale, mean_score_out_of_10 rescaled for comparison. -#}
with grains as (
    {{ period_grains() }}
),

surveys as (
    select * from {{ ref('int_satisfaction_surveys') }}
),

by_period as (
    select
        g.period_grain,
        {{ period_start('g.period_grain', 's.sent_on') }} as period_start,
        s.*
    from surveys as s
    cross join grains as g
),

counted as (
    select
        period_grain,
        period_start,
        service_code,
        channel,
        scale as survey_scale,
        count(*) as surveys_sent,
        count(*) filter (where is_answered) as surveys_answered,
        count(*) filter (where is_satisfied) as satisfied_answers,
        avg(score) filter (where is_answered) as mean_score
    from by_period
    where period_start <= {{ run_day() }}
    group by all
)

select
    period_grain,
    period_start,
    cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
    service_code,
    channel,
    cast(survey_scale as integer) as survey_scale,
    cast(surveys_sent as bigint) as surveys_sent,
    cast(surveys_answered as bigint) as surveys_answered,
    cast(surveys_answered / surveys_sent as double) as response_rate,
    cast(satisfied_answers as bigint) as satisfied_answers,
    cast(case when surveys_answered > 0 then satisfied_answers / surveys_answered end as double)
        as satisfied_share,
    cast(mean_score as double) as mean_score,
    cast(mean_score * 10.0 / survey_scale as double) as mean_score_out_of_10,
    {{ is_period_final(period_end('period_grain', 'period_start')) }} as is_final,
    {{ as_of() }} as evaluated_as_of
from counted
