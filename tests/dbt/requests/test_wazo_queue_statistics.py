"""Wazo's queue quality of service from a real queue_log across the autumn DST change (issue 13,
item 2): tests/fixtures/asterisk/wazo_queue_stats/queue_log holds the calls of
wazo-call-logd's ``test_queue_stats_qos.py::test_period_thresholds_by_hour_all_params_and_dst_change``
(America/Montreal, 1 Nov 2020, qos_thresholds 5,10,15,20,30) as Asterisk writes them. The
chain queue_log connector -> landing -> int_phone_queue_visits -> phone_queue_qos_bands gives
Wazo's own expected bands, with one documented difference: Wazo's first hourly interval that
night runs from 00:00-04:00 to 01:00-05:00 (two real hours: its localize() of the repeated
01:00 picks the second one), where Vigie keeps each real hour; the sum of Vigie's two hours is
Wazo's figure. Wazo's day_start/day_end/week_days filters are request parameters Vigie does not
reproduce: the fixture holds only the calls they keep.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from connectors.extract import extract_source
from tests.connectors.conftest import ASTERISK_FIXTURES, minimal_config

DAY = dt.date(2020, 11, 1)
# band_min -> (answered, abandoned), from Wazo's test
WAZO_FIRST_INTERVAL = {0: (2, 2), 5: (2, 0), 10: (4, 2), 15: (2, 0), 20: (2, 0), 30: (0, 2)}
WAZO_01_05 = {0: (1, 1), 5: (1, 0), 10: (1, 1), 15: (1, 0), 20: (1, 0), 30: (0, 1)}
WAZO_02_05 = {0: (1, 1), 5: (1, 0), 10: (0, 1), 15: (0, 0), 20: (1, 0), 30: (0, 1)}
WAZO_PERIOD = {0: (4, 4), 5: (4, 0), 10: (5, 4), 15: (3, 0), 20: (4, 0), 30: (0, 4)}


def test_wazo_qos_bands_across_the_dst_change(dbt_sandbox, statuses_of, tmp_path: Path) -> None:
    shutil.copytree(ASTERISK_FIXTURES / "wazo_queue_stats", tmp_path / "src" / "wazo_queue_stats")
    source = {"id": "wazo_ql", "type": "asterisk_queue_log", "path": "wazo_queue_stats/queue_log",
              "queues": {"queue": "ACCUEIL"}}  # fmt: skip
    cfg = minimal_config(tmp_path / "src", [source], timezone="America/Montreal")
    batch = extract_source(cfg, "wazo_ql", DAY)
    assert batch.row_counts == {"queue_log_events": 64}

    box = dbt_sandbox
    shutil.copytree(batch.path, box.landing / "wazo_ql" / f"day={DAY.isoformat()}")
    box.prepare(DAY)
    night = {"run_day": "2020-11-01", "as_of": "2020-11-02T05:00:00+00:00",
             "timezone": "America/Montreal"}  # fmt: skip
    built = box.dbt(["run", "--select", "+phone_queue_qos_bands +phone_queue_statistics"], night)
    assert built.success, statuses_of(built)

    rows = box.query(
        "select period_grain, strftime(period_start_at, '%H'), band_min_seconds, answered, abandoned "
        "from marts.phone_queue_qos_bands order by period_grain, period_start_at, band_min_seconds"
    )
    bands: dict[tuple[str, str], dict[int, tuple[int, int]]] = {}
    for grain, hour, low, answered, abandoned in rows:
        bands.setdefault((grain, hour), {})[low] = (answered, abandoned)
    # real hours (UTC): 04 = 00:00-04, 05 = 01:00-04, 06 = 01:00-05, 07 = 02:00-05
    assert sorted(bands) == [("day", "04"), ("hour", "04"), ("hour", "05"), ("hour", "06"),
                             ("hour", "07"), ("month", "04")]  # fmt: skip
    merged = {
        low: tuple(a + b for a, b in zip(bands["hour", "04"][low], bands["hour", "05"][low], strict=True))
        for low in WAZO_FIRST_INTERVAL
    }
    assert merged == WAZO_FIRST_INTERVAL
    assert bands["hour", "06"] == WAZO_01_05
    assert bands["hour", "07"] == WAZO_02_05
    assert bands["day", "04"] == WAZO_PERIOD
    # the same visits in call-logd's queue statistics: answered_rate 100 * 20 / (20 + 12);
    # average_waiting_time int(round(397 s of waits / 32 waited calls, 2)) = int(12.41) = 12
    assert box.query(
        "select received, answered, abandoned, answered_rate, average_waiting_time "
        "from marts.phone_queue_statistics where period_grain = 'day'"
    ) == [(32, 20, 12, 62.5, 12)]
    checked = box.dbt(
        ["test", "--select", "phone_queue_statistics,test_type:data",
         "phone_queue_qos_bands,test_type:data", "int_phone_queue_visits,test_type:data"],
        night,
    )  # fmt: skip
    assert checked.success and statuses_of(checked), statuses_of(checked)
