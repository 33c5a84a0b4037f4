"""The catalogue swap: a diff of the new playlist against the stored catalogue by stable key, applied in one
transaction.

Phase 1 (``Differ``, no transaction, progress visible): each parsed entry becomes a row; its key hash is
looked up in the stored (key hash, content hash) pairs, held as two sorted ``array('q')`` (16 bytes a channel);
new and changed rows are written to a spool file on disk, unchanged ones cost nothing. Phase 2 (``apply``,
one transaction): the spool is inserted (COPY on PostgreSQL) and updated, the entries gone are deleted, and the
provider row gets its counts. A repeat refresh of an unchanged playlist writes nothing but the provider row;
readers see the old catalogue until the commit; a failure before it leaves the old catalogue as it was.

On PostgreSQL, outside a caller's transaction, the new rows do not wait for phase 2: ``InsertStream`` sends
them to one COPY from a thread of its own (its own connection and transaction) while the playlist is still
being read, so PostgreSQL inserts and indexes them on the other core; phase 2 then runs in that transaction.
"""
from __future__ import annotations

import fnmatch
import pickle
import queue
import re
import threading
from array import array
from bisect import bisect_left
from typing import IO, Callable

from django.db import connection, transaction

from . import parsers
from .models import Channel, Provider

TABLE = Channel._meta.db_table
COLUMNS = ["provider_id", "key", "key_hash", "content_hash", "position", "stream_id", "name", "tvg_id", "tvg_name",
           "logo", "group_title", "category", "stream_type", "stream_url", "chno", "catchup", "catchup_days",
           "catchup_source", "user_agent", "options", "search", "epg_channel_id", "epg_match", "source_hash"]
COPY_TYPES = ["int8", "text", "int8", "int8", "int4", "int8", "text", "text", "text", "text", "text", "text", "text",
              "text", "text", "text", "int4", "text", "text", "text", "text", "text", "text", "int8"]
# what a row holds besides what its lines say: bump it when build_row or the parser read an entry differently, so
# that the next refresh reads every entry again instead of trusting unchanged lines
ROW_VERSION = 1
SOURCE = COLUMNS.index("source_hash")
UPDATE_COLUMNS = COLUMNS[3:]
SPOOL_BATCH = 2000
# the group is btree-indexed: PostgreSQL refuses an index entry over ~2,700 bytes (500 characters of any script
# are at most 2,000 bytes of UTF-8); a longer group title is cut, rather than failing the whole refresh
MAX_GROUP_LENGTH = 500


def group_filter(include: str, exclude: str):
    """A predicate on a group name from the provider's include / exclude patterns (one per line, * and ?,
    case- and accent-insensitive); None when there are none."""
    def compile_(text):
        patterns = [parsers.fold(p) for p in (text or "").splitlines() if p.strip()]
        return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None

    inc, exc = compile_(include), compile_(exclude)
    if inc is None and exc is None:
        return None

    def keep(group: str) -> bool:
        g = parsers.fold(group)
        if inc is not None and not inc.match(g):
            return False
        return not (exc is not None and exc.match(g))

    return keep


class GuideIndex:
    """The guide channels to match against (from ``epg.selectors.guide_index``)."""

    def __init__(self, tvg_ids: dict[str, str] | None = None, names: dict[str, str] | None = None):
        self.tvg_ids = tvg_ids or {}  # folded tvg id -> guide tvg id
        self.names = names or {}  # match name -> guide tvg id

    def digest(self) -> int:
        return parsers.hash64(repr((sorted(self.tvg_ids.items()), sorted(self.names.items()))))

    def match(self, tvg_id: str, *names: str) -> tuple[str, str]:
        if tvg_id:
            found = self.tvg_ids.get(tvg_id) or self.tvg_ids.get(tvg_id.casefold())
            if found:
                return found, Channel.Match.TVG_ID
        for name in names:
            if name:
                found = self.names.get(parsers.match_name(name))
                if found:
                    return found, Channel.Match.NAME
        return "", Channel.Match.NONE


def build_row(provider_id: int, position: int, e: parsers.Entry, enrichment, guide: GuideIndex,
              source_hash: int = 0, category: str | None = None) -> tuple:
    """The row of one entry, in COLUMNS order (``category``: one given, as a cache file does, instead of the one
    worked out). This runs 200,000 times a refresh: keep it lean."""
    kind, group, catchup_days = e.kind, e.group, e.catchup_days
    if enrichment:
        info = enrichment.lookup(kind, e.stream_id)
        if info is not None:
            category_name, days = info
            group = group or category_name
            if catchup_days is None:
                catchup_days = days
    if len(group) > MAX_GROUP_LENGTH:
        group = group[:MAX_GROUP_LENGTH]
    if category is None:
        category = parsers.categorise(kind, group, e.name, e.url)
    epg_id, how = guide.match(e.tvg_id, e.tvg_name, e.name) if (guide.tvg_ids or guide.names) else ("", "")
    key = e.key
    options = "\n".join(e.options) if e.options else ""
    chno, catchup = e.chno[:32], e.catchup[:32]
    search = parsers.search_text(e.name, e.tvg_name, e.tvg_id, group)
    content = parsers.hash64("\x1f".join((
        f"{position}\x1f{e.stream_id}\x1f{catchup_days}", e.name, e.tvg_id, e.tvg_name, e.logo, group, category,
        kind, e.url, chno, catchup, e.catchup_source, e.user_agent, options, epg_id, how)))
    return (provider_id, key, parsers.key_hash(kind, e.stream_id, key), content, position, e.stream_id, e.name,
            e.tvg_id, e.tvg_name, e.logo, group, category, kind, e.url, chno, catchup, catchup_days,
            e.catchup_source, e.user_agent, options, search, epg_id, how, source_hash)


def source_hash(position: int, raw: parsers.Raw, info) -> int:
    """The hash of an entry's lines, its position and what player_api.php says of it (``Enrichment.lookup``)."""
    return parsers.hash64(f"{position}\x1f{info}\x1f{raw.text()}")


def row_context(provider, guide: GuideIndex) -> int:
    """The hash of what rows are built from besides their lines: while it is the one stored on the provider,
    an entry whose lines (``source_hash``) have not changed has an unchanged row."""
    return parsers.hash64(repr((ROW_VERSION, provider.include_groups, provider.exclude_groups, guide.digest())))


class Differ:
    """Phase 1: compare rows with the stored catalogue; spool what must be written."""

    def __init__(self, provider_id: int, spool: IO[bytes], insert: Callable[[tuple], None] | None = None):
        self.provider_id = provider_id
        self.insert = insert  # where new rows go at once (an InsertStream); else they are spooled
        self.keys, self.hashes, self.sources = array("q"), array("q"), array("q")
        # a server-side cursor on PostgreSQL: the 200,000 triples stream in, they are not all buffered first
        with connection.chunked_cursor() as cur:
            cur.execute(f"SELECT key_hash, content_hash, source_hash FROM {TABLE} WHERE provider_id = %s "
                        "ORDER BY key_hash", [provider_id])
            while True:
                rows = cur.fetchmany(10000)
                if not rows:
                    break
                for kh, ch, sh in rows:
                    self.keys.append(kh)
                    self.hashes.append(ch)
                    self.sources.append(sh)
        self.seen = bytearray(len(self.keys))
        # unchanged rows whose lines are written differently (or hashed before source_hash existed): only their
        # source hash is written, so that the next repeat refresh can skip them
        self.resourced = (array("q"), array("q"))
        self.new_keys: set[int] = set()
        self.spool = spool
        self.inserts: list[tuple] = []
        self.updates: list[tuple] = []
        self.counts = {"total": 0, "new": 0, "changed": 0, "unchanged": 0, "duplicates": 0, "removed": 0}

    def unchanged(self, kh: int, source: int) -> bool:
        """A repeat refresh's shortcut: True when the stored channel of this key, not seen yet, has these very
        lines (it is kept as it is, nothing read); False when the entry must be read and compared (``add``)."""
        keys = self.keys
        i = bisect_left(keys, kh)
        if i == len(keys) or keys[i] != kh:
            return False
        if self.seen[i] or self.sources[i] != source:
            return False  # a duplicate is counted by ``add``, after the group patterns have had their say
        self.seen[i] = 1
        self.counts["unchanged"] += 1
        self.counts["total"] += 1
        return True

    def add(self, row: tuple) -> bool:
        kh = row[2]
        keys = self.keys
        i = bisect_left(keys, kh)
        if i < len(keys) and keys[i] == kh:
            if self.seen[i]:
                self.counts["duplicates"] += 1
                return False
            self.seen[i] = 1
            if self.hashes[i] != row[3]:
                self.updates.append(row)
                self.counts["changed"] += 1
            else:
                self.counts["unchanged"] += 1
                if self.sources[i] != row[SOURCE]:
                    self.resourced[0].append(kh)
                    self.resourced[1].append(row[SOURCE])
        else:
            if kh in self.new_keys:
                self.counts["duplicates"] += 1
                return False
            self.new_keys.add(kh)
            if self.insert is not None:
                self.insert(row)
            else:
                self.inserts.append(row)
            self.counts["new"] += 1
        self.counts["total"] += 1
        if len(self.inserts) + len(self.updates) >= SPOOL_BATCH:
            self._spool()
        return True

    def _spool(self):
        if self.inserts or self.updates:
            pickle.dump((self.inserts, self.updates), self.spool, protocol=pickle.HIGHEST_PROTOCOL)
            self.inserts, self.updates = [], []

    def finish(self) -> array:
        """Flush the spool; returns the key hashes of the stored channels the playlist no longer has."""
        self._spool()
        self.spool.flush()
        gone = array("q", (kh for kh, s in zip(self.keys, self.seen) if not s))
        self.counts["removed"] = len(gone)
        self.new_keys = set()
        return gone


def _batches(spool: IO[bytes]):
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _copy_sql(table: str) -> str:
    """PostgreSQL's COPY of COLUMNS into ``table``, in the binary format ``_copy`` and InsertStream write."""
    return f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in COLUMNS)}) FROM STDIN (FORMAT BINARY)"


def apply(provider_id: int, spool: IO[bytes], gone: array, resourced: tuple[array, array] | None = None) -> None:
    """Phase 2, inside the caller's transaction: inserts, updates and deletes from phase 1, and the new source
    hashes of unchanged rows (``Differ.resourced``)."""
    postgres = connection.vendor == "postgresql"
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in COLUMNS)
    staged = False
    with connection.cursor() as cur:
        for start in range(0, len(gone), 1000):
            chunk = list(gone[start:start + 1000])
            if postgres:
                cur.execute(f"DELETE FROM {TABLE} WHERE provider_id = %s AND key_hash = ANY(%s)",
                            [provider_id, chunk])
            else:
                cur.execute(f"DELETE FROM {TABLE} WHERE provider_id = %s AND key_hash IN "
                            f"({', '.join(['%s'] * len(chunk))})", [provider_id, *chunk])
        for inserts, updates in _batches(spool):
            if postgres:
                if inserts:
                    _copy(cur, _copy_sql(TABLE), inserts)
                if updates:
                    if not staged:
                        cur.execute(f"CREATE TEMP TABLE channels_stage (LIKE {TABLE} INCLUDING DEFAULTS) "
                                    "ON COMMIT DROP")
                        cur.execute("ALTER TABLE channels_stage ALTER COLUMN id DROP NOT NULL")
                        staged = True
                    _copy(cur, _copy_sql("channels_stage"), updates)
            else:
                if inserts:
                    cur.executemany(f"INSERT INTO {TABLE} ({cols}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                                    inserts)
                if updates:
                    sets = ", ".join(f"{qn(c)} = %s" for c in UPDATE_COLUMNS)
                    cur.executemany(f"UPDATE {TABLE} SET {sets} WHERE provider_id = %s AND key_hash = %s",
                                    [(*row[3:], row[0], row[2]) for row in updates])
        keys, values = resourced or ((), ())
        for start in range(0, len(keys), 5000):
            ks, vs = list(keys[start:start + 5000]), list(values[start:start + 5000])
            if postgres:  # source_hash is not indexed: these are cheap (HOT) updates
                cur.execute(f"UPDATE {TABLE} AS c SET source_hash = s.v FROM unnest(%s::bigint[], %s::bigint[]) "
                            "AS s(k, v) WHERE c.provider_id = %s AND c.key_hash = s.k", [ks, vs, provider_id])
            else:
                cur.executemany(f"UPDATE {TABLE} SET source_hash = %s WHERE provider_id = %s AND key_hash = %s",
                                [(v, provider_id, k) for k, v in zip(ks, vs)])
        if staged:
            sets = ", ".join(f"{qn(c)} = s.{qn(c)}" for c in UPDATE_COLUMNS)
            cur.execute(f"UPDATE {TABLE} AS c SET {sets} FROM channels_stage AS s "
                        "WHERE c.provider_id = s.provider_id AND c.key_hash = s.key_hash")
            cur.execute("DROP TABLE channels_stage")


def _copy(cur, sql: str, rows: list[tuple]) -> None:
    with cur.cursor.copy(sql) as copy:
        copy.set_types(COPY_TYPES)
        write = copy.write_row
        for row in rows:
            write(row)


def lock_providers(provider_ids) -> None:
    """Take the providers' rows, as a refresh's swap does before it touches their channels: whatever else writes a
    provider's channels (the admin's deletes, a cache import) takes them first too, so it waits for a swap instead
    of deadlocking with it (PostgreSQL would then kill one of the two). Inside the caller's transaction."""
    list(Provider.objects.select_for_update().filter(pk__in=list(provider_ids)).order_by("pk").values_list("pk"))


def streams_inserts() -> bool:
    """Whether a refresh may use an InsertStream: PostgreSQL, and no transaction of the caller's (the stream's own
    connection could not see what that transaction wrote)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


_END, _ABORT = object(), object()


class _Aborted(Exception):
    pass


class InsertStream:
    """New rows to one ``COPY`` into the channels table, written by a thread of its own with its own connection,
    inside a transaction that ``commit(then)`` ends: ``then()`` (the rest of the swap) runs in it, in that thread,
    and nothing is visible to readers before it commits. ``abort()``, or any error, rolls everything back.

    The queue between the reader and the writer is bounded (a few batches): memory stays flat. An error of the
    writer is raised to the reader at its next ``add`` or at ``commit``."""

    BATCH = 2000

    def __init__(self):
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._batch: list[tuple] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="channels-copy", daemon=True)
        self._thread.start()

    def add(self, row: tuple) -> None:
        self._batch.append(row)
        if len(self._batch) >= self.BATCH:
            self._put(self._batch)
            self._batch = []

    def commit(self, then: Callable[[], None]) -> None:
        """Ends the COPY, runs ``then()`` in the same transaction and commits; raises what failed there."""
        if self._batch:
            self._put(self._batch)
            self._batch = []
        self._put(_END)
        self._put(then)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Rolls back what was written (a failed or cancelled refresh) and waits for the writer to stop."""
        while self._thread.is_alive():
            try:
                self._queue.put(_ABORT, timeout=0.2)
                break
            except queue.Full:
                continue
        self._thread.join()

    def _put(self, item) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise RuntimeError("The catalogue writer stopped.") from self._error

    def _next(self):
        item = self._queue.get()
        if item is _ABORT:
            raise _Aborted()
        return item

    def _run(self) -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    with cur.cursor.copy(_copy_sql(TABLE)) as copy:
                        copy.set_types(COPY_TYPES)
                        write = copy.write_row
                        while (batch := self._next()) is not _END:
                            for row in batch:
                                write(row)
                self._next()()
        except _Aborted:
            pass
        except BaseException as exc:
            self._error = exc
        finally:
            connection.close()
