{#- What the data team or the extract said about a source's night, from marker files in the
    landing area, read the way landing_scan reads batches (one glob over every source and
    night's day, only days <= the night):
    - `<landing>/<source>/day=D/_FAILED.json`: the extract of night D failed or timed out
      (written by the extract task; keys source_id, day, error, failed_at). A successful
      landing of D replaces the whole directory, so the marker goes with it.
    - `<landing>/<source>/day=D/_CONFIRMED.json`: the data team confirmed that what landed for
      D is all there is (`vigie confirm-day --source S --day D`; keys source_id, day,
      confirmed_by, confirmed_at, note).
    read_text returns no row (not an error) when the glob matches nothing, so a site with no
    marker needs no placeholder file. A marker that is not valid JSON still counts (its path
    says the source and day); only its detail is lost. -#}
{%- set root = var("landing_root") | replace("'", "''") -%}
{%- set path_re = "([^/\\\\]+)[/\\\\]day=(\\d{4}-\\d{2}-\\d{2})[/\\\\][^/\\\\]+$" -%}
with files as (
    select 'failed' as marker, filename, content
    from read_text('{{ root }}/*/day=*/_FAILED.json')
    union all
    select 'confirmed' as marker, filename, content
    from read_text('{{ root }}/*/day=*/_CONFIRMED.json')
),

parsed as (
    select
        regexp_extract(filename, '{{ path_re }}', 1) as source_id,
        try_cast(regexp_extract(filename, '{{ path_re }}', 2) as date) as local_date,
        marker,
        case
            when not json_valid(content) then null
            when marker = 'failed' then json_extract_string(content, '$.error')
            else concat_ws(' — ', json_extract_string(content, '$.confirmed_by'),
                           json_extract_string(content, '$.note'))
        end as detail
    from files
)

select source_id, local_date, marker, detail
from parsed
where local_date is not null and local_date <= {{ run_day() }} and not starts_with(source_id, '_')
