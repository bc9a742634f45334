"""Rate limits on PostgreSQL: one sliding window per key for every API replica, so N replicas
together accept what one would (see base.RateLimits)."""

from __future__ import annotations

import random

from capmatch.storage.postgres import RATE_LOCK_SPACE, PgDatabase

# Keys that never come back leave rows behind; now and then a call clears every expired row.
SWEEP_CHANCE = 0.01
SWEEP_AFTER_SECONDS = 3600


class PgRateLimits:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    def take(self, key: str, limit: int, window_seconds: float) -> float | None:
        with self.db.transaction():
            # Serialised per key: two replicas counting the same client cannot both take the last slot.
            self.db.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (RATE_LOCK_SPACE, key))
            self.db.execute(
                "DELETE FROM rate_events WHERE key = ? AND at < clock_timestamp() - make_interval(secs => ?)",
                (key, float(window_seconds)),
            )
            row = self.db.execute(
                """SELECT COUNT(*), EXTRACT(EPOCH FROM clock_timestamp() - MIN(at)) FROM rate_events
                   WHERE key = ?""",
                (key,),
            ).fetchone()
            assert row is not None
            count, oldest_age = int(row[0]), float(row[1] or 0.0)
            if count >= limit:
                return max(0.0, window_seconds - oldest_age)
            self.db.execute("INSERT INTO rate_events (key, at) VALUES (?, clock_timestamp())", (key,))
        if random.random() < SWEEP_CHANCE:
            self.db.execute(
                "DELETE FROM rate_events WHERE at < clock_timestamp() - make_interval(secs => ?)",
                (float(max(window_seconds, SWEEP_AFTER_SECONDS)),),
            )
        return None
