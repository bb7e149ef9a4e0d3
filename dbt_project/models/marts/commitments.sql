{#- The commitments dimension of the BI contract: one row per commitment version (versions share
    the id; commitment_version = valid_from, as in commitment_evaluations), with its label, its
    target in words and the services it covers. valid_to is the exclusive end of the version
    (the next version's valid_from or its own valid_to), taken from int_commitment_versions, the
    one place that bounds versions. -#}
with versions as (
    select * from {{ ref('int_commitment_versions') }}
),

per_version as (
    select
        commitment_id,
        valid_from,
        any_value(label) as label,
        any_value(reference) as reference,
        any_value(channel) as channel,
        any_value(metric) as metric,
        any_value(request_kind) as request_kind,
        any_value(target_value) as target_value,
        any_value(target_unit) as target_unit,
        any_value(threshold) as threshold,
        any_value(min_volume) as min_volume,
        any_value(valid_to) as valid_to,
        string_agg(service_code, ', ' order by service_code) as service_codes
    from versions
    group by commitment_id, valid_from
),

-- French words of each unit (singular, plural) for target_label
units as (
    select * from (values
        ('seconds', 'seconde', 'secondes'),
        ('business_minutes', 'minute ouvrée', 'minutes ouvrées'),
        ('business_hours', 'heure ouvrée', 'heures ouvrées'),
        ('business_days', 'jour ouvré', 'jours ouvrés'),
        ('working_days', 'jour ouvrable', 'jours ouvrables'),
        ('calendar_days', 'jour calendaire', 'jours calendaires'),
        ('weeks', 'semaine', 'semaines')
    ) as u (target_unit, singular, plural)
)

select
    p.commitment_id,
    p.valid_from as commitment_version,
    p.label,
    p.reference,
    p.channel,
    p.metric,
    p.request_kind,
    cast(p.target_value as double) as target_value,
    p.target_unit,
    case
        when p.target_value is null then null
        else
            (case
                when p.target_value = floor(p.target_value) then cast(cast(p.target_value as bigint) as varchar)
                else replace(cast(p.target_value as varchar), '.', ',')
            end)
            || ' '
            || (case when p.target_value < 2 then u.singular else u.plural end)
    end as target_label,
    cast(p.threshold as double) as threshold,
    cast(p.min_volume as integer) as min_volume,
    p.valid_from,
    p.valid_to,
    p.valid_from <= {{ run_day() }} and (p.valid_to is null or p.valid_to > {{ run_day() }}) as is_in_force,
    p.service_codes
from per_version as p
left join units as u on u.target_unit = p.target_unit
