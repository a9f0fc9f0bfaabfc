"""Kept-edge storage (tickets/edges.py): the compressed by-row form against plain sorted pairs,
merges with row filters, the bytes it takes, damaged data, and tickets saved in it (and in the
previous formats)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subsetsum import construct_ticket
from subsetsum.tickets import edges as edges_mod
from subsetsum.tickets.edges import EdgeCollector, KeptEdges
from subsetsum.tickets.ticket import Ticket


COLUMNS = 1000  # of the random edges


def _pairs(rng, n_rows, count, n_cols=COLUMNS):
    return rng.integers(0, n_rows, count), rng.integers(0, n_cols, count)


def _reference(rows, cols, keep):
    """Plain sorted (row, col) pairs of the kept rows."""
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    sel = keep[rows]
    order = np.lexsort((cols[sel], rows[sel]))
    return rows[sel][order], cols[sel][order]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 60), chunks=st.integers(0, 8),
       parts=st.integers(0, 3), keep_fraction=st.floats(0.0, 1.0), batch=st.sampled_from([1, 3, 50, 1 << 23]))
def test_merge_equals_sorted_pairs_of_kept_rows(seed, n_rows, chunks, parts, keep_fraction, batch):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(edges_mod, "EDGES_PER_BATCH", batch)
        mp.setattr(edges_mod, "RELEASE_EVERY", 5)
        _check_merge(seed, n_rows, chunks, parts, keep_fraction)


def _check_merge(seed, n_rows, chunks, parts, keep_fraction):
    rng = np.random.default_rng(seed)
    collector = EdgeCollector()
    all_rows, all_cols, collected = [], [], []
    for _ in range(chunks):
        r, c = _pairs(rng, n_rows, int(rng.integers(0, 80)))
        if rng.random() < 0.5:  # grouped by row, columns in any order (a solved block's edges)
            order = np.argsort(r, kind="stable")
            r, c = r[order].astype(np.int32), c[order].astype(np.int32)
        collector.add(r, c)
        all_rows.append(r), all_cols.append(c), collected.append(r)
    extra = [_pairs(rng, n_rows, int(rng.integers(0, 40))) for _ in range(parts)]
    for r, c in extra:
        all_rows.append(r), all_cols.append(c)
    keep = rng.random(n_rows) < keep_fraction
    used = np.zeros(COLUMNS, bool)
    merged, kept_collected = collector.merge(n_rows, keep, extra, mark_columns=used)
    rows = np.concatenate(all_rows) if all_rows else np.zeros(0, np.int64)
    cols = np.concatenate(all_cols) if all_cols else np.zeros(0, np.int64)
    ref_rows, ref_cols = _reference(rows, cols, keep)
    got_rows, got_cols = merged
    np.testing.assert_array_equal(got_rows, ref_rows)
    np.testing.assert_array_equal(got_cols, ref_cols)
    np.testing.assert_array_equal(used, np.isin(np.arange(COLUMNS), ref_cols))
    np.testing.assert_array_equal(used, merged.columns_used(COLUMNS))
    assert got_rows.dtype == np.int32 and got_cols.dtype == np.int32
    assert merged.n_rows == n_rows and merged.size == ref_rows.size
    assert kept_collected == sum(int(keep[r].sum()) for r in collected)
    assert len(collector) == 0  # the chunks were released


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 30), max_runs=st.sampled_from([1, 2, 5, 16, 17, 60]))
def test_row_sort_merges_the_runs_of_the_listed_rows(seed, n_rows, max_runs):
    """Rows made of sorted runs (a chunk each) come out sorted; rows not listed are left as they
    are; both the run-by-run merge and the whole sort (more than 16 runs) are exercised."""
    from subsetsum import _core

    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_rows):
        runs = [np.sort(rng.integers(0, 1000, int(rng.integers(0, 12)))) for _ in range(int(rng.integers(1, max_runs + 1)))]
        rows.append(np.concatenate(runs).astype(np.int32))
    indptr = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int64) + 7  # offsets start anywhere
    cols = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    listed = np.flatnonzero(rng.random(n_rows) < 0.7)
    _core.sort_row_columns(indptr, cols, listed)
    for r, original in enumerate(rows):
        got = cols[indptr[r] - 7:indptr[r + 1] - 7]
        np.testing.assert_array_equal(got, np.sort(original) if r in listed else original)


def test_row_sort_refuses_rows_out_of_range():
    from subsetsum import _core

    with pytest.raises(ValueError, match=r"rows: expected rows in \[0, 2\), got 2"):
        _core.sort_row_columns(np.array([0, 1, 2]), np.array([3, 1], np.int32), np.array([2]))
    with pytest.raises(ValueError, match="cols"):
        _core.sort_row_columns(np.array([0, 1, 2]), np.array([3, 1], np.int64), np.array([0]))


@pytest.mark.parametrize("cost", [0.0005, 0.01, 0.05])
def test_release_pace_keeps_the_returns_to_their_share_of_the_time(monkeypatch, cost):
    """Returns of freed memory that grow dearer take at most their share of the time, and are
    still made regularly (not starved)."""
    now = [0.0]

    def release():  # a return of freed memory taking `cost` seconds
        now[0] += cost

    monkeypatch.setattr(edges_mod, "release_freed_memory", release)
    pace = edges_mod.ReleasePace(share=0.05, clock=lambda: now[0])
    calls = 0
    for _ in range(10_000):  # 1 ms of other work between two chances to return
        now[0] += 0.001
        if pace.due():
            pace.release()
            calls += 1
    spent = calls * cost
    assert spent <= 0.05 * now[0] + cost
    # every chance while cheap; at about the share once they are dear
    assert calls >= min(10_000, 0.04 * now[0] / cost)


def test_kept_edges_unpack_index_and_validate():
    e = KeptEdges.from_pairs([3, 1, 3, 3], [9, 4, 2, 9], n_rows=5)
    rows, cols = e
    assert rows.tolist() == [1, 3, 3, 3] and cols.tolist() == [4, 2, 9, 9]
    assert e[0].tolist() == rows.tolist() and e[1].tolist() == e[-1].tolist() == cols.tolist()
    assert e.counts().tolist() == [0, 1, 0, 3, 0]
    with pytest.raises(IndexError):
        e[2]
    with pytest.raises(ValueError, match="indptr"):
        KeptEdges(np.array([0, 2]), np.array([1], np.int32))
    assert KeptEdges.empty(4).size == 0 and KeptEdges.empty(4).rows.size == 0


def test_collector_refuses_negative_and_oversized_indices():
    with pytest.raises(ValueError, match="edges"):
        EdgeCollector().add(np.array([-1]), np.array([0]))
    with pytest.raises(ValueError, match="edges"):
        EdgeCollector().add(np.array([0]), np.array([1 << 31]))


@pytest.mark.parametrize("spread,bound", [(64, 1.01), (1 << 12, 2.01), (1 << 20, 3.01)])
def test_storage_is_the_varint_of_the_column_gaps(spread, bound):
    """A block of the first solve (hundreds of rows, thousands of edges each, a row's columns
    ``spread`` apart on average) costs a byte per 7 bits of gap, and three int64 per row, in the
    collector and in the merged layer; a ticket's rows read columns a few apart (1 byte)."""
    rng = np.random.default_rng(0)
    collector = EdgeCollector()
    n_rows, per_row = 3000, 1000
    for lo in range(0, n_rows, 100):
        rows = np.repeat(np.arange(lo, lo + 100), per_row)
        cols = np.cumsum(rng.integers(0, 2 * spread - 1, rows.size).reshape(100, per_row), axis=1).ravel()
        collector.add(rows, cols)
    stored = sum(c.data.nbytes + c.rows.nbytes + c.indptr.nbytes + c.byteptr.nbytes for c in collector.chunks)
    edges = collector.edges()
    assert stored / edges < bound + 0.03
    merged, _ = collector.merge(n_rows, np.ones(n_rows, bool))
    assert merged.data.nbytes / edges < bound
    assert merged.nbytes == merged.data.nbytes + 16 * (n_rows + 1)


def test_varint_rows_round_trip_and_refuse_bad_input():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 50, 200)
    counts[0] = 3  # row 0: the extremes, [0, 2^31 - 1, 2^31 - 1]
    indptr = np.concatenate([[0], np.cumsum(counts)])
    cols = np.concatenate([np.sort(rng.integers(0, 2**31, c)) for c in counts]).astype(np.int32)
    cols[:3] = [0, 2**31 - 1, 2**31 - 1]
    e = KeptEdges(indptr, cols)
    np.testing.assert_array_equal(e.cols, cols)
    for r0, r1 in [(0, 200), (17, 18), (50, 120), (5, 5)]:
        np.testing.assert_array_equal(e.row_cols(r0, r1), cols[indptr[r0]:indptr[r1]])
    blocks = list(e.row_blocks(100))
    assert blocks[0][0] == 0 and blocks[-1][1] == 200 and all(b[1] == c[0] for b, c in zip(blocks, blocks[1:]))
    np.testing.assert_array_equal(np.concatenate([b[2] for b in blocks]), cols)
    again = KeptEdges.from_encoded(e.indptr, e.byteptr, e.data)
    np.testing.assert_array_equal(again.cols, cols)
    with pytest.raises(ValueError, match="increasing within each row"):
        KeptEdges(np.array([0, 2]), np.array([5, 4], np.int32))
    with pytest.raises(ValueError, match="byteptr"):
        KeptEdges.from_encoded(e.indptr, e.byteptr[:-1], e.data)
    damaged = e.data.copy()
    damaged[np.flatnonzero(damaged < 0x80)[:200]] |= 0x80  # varints that never end within their row
    with pytest.raises(ValueError, match="damaged"):
        KeptEdges.from_encoded(e.indptr, e.byteptr, damaged).cols


def test_varint_rows_decode_to_given_places():
    """Rows decoded each to its own place (a merge's slots among other chunks' rows), skipped
    rows left untouched, and places that do not fit or damaged bytes refused."""
    from subsetsum import _core

    rng = np.random.default_rng(2)
    counts = rng.integers(0, 40, 300)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    cols = np.concatenate([np.sort(rng.integers(0, 2**31, c)) for c in counts]).astype(np.int32)
    e = KeptEdges(indptr, cols)
    skipped = rng.random(300) < 0.3
    gaps = rng.integers(0, 5, 300)  # room between the rows' places
    dest = np.cumsum(np.concatenate([[0], (counts + gaps)[:-1]]))
    out = np.full(int(dest[-1] + counts[-1] + 3), -7, np.int32)
    _core.varint_decode_into(e.byteptr, e.data, e.indptr, out, dest=np.where(skipped, -1, dest))
    expected = np.full_like(out, -7)
    for r in np.flatnonzero(~skipped):
        expected[dest[r]:dest[r] + counts[r]] = cols[indptr[r]:indptr[r + 1]]
    np.testing.assert_array_equal(out, expected)
    row = int(np.flatnonzero(counts)[-1])
    too_far = np.full(300, -1)
    too_far[row] = out.size - counts[row] + 1
    with pytest.raises(ValueError, match=f"dest: row {row} at"):
        _core.varint_decode_into(e.byteptr, e.data, e.indptr, out, dest=too_far)
    damaged = e.data.copy()
    damaged[np.flatnonzero(damaged < 0x80)[:200]] |= 0x80
    with pytest.raises(ValueError, match="damaged"):
        _core.varint_decode_into(e.byteptr, damaged, e.indptr, out, dest=dest)


@pytest.fixture(scope="module")
def small_ticket():
    rng = np.random.default_rng(3)
    target = [(rng.uniform(-1, 1, (6, 5)), rng.uniform(-1, 1, 6)), (rng.uniform(-1, 1, (2, 6)), np.zeros(2))]
    return construct_ticket(target, method="L+1", seed=1)


def _same_edges(a, b):
    return all(np.array_equal(x.indptr, y.indptr) and np.array_equal(x.cols, y.cols) for x, y in zip(a.edges, b.edges))


def test_saved_rows_and_bits_read_back_identical(small_ticket, tmp_path):
    path = tmp_path / "t.ticket"
    small_ticket.save(path)
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        storage = json.loads(f.metadata()["subsetsum"])["storage"]
    assert set(storage) == {"varint", "bits"}  # sparse layers by row, dense ones as bits
    loaded = Ticket.load(path)
    assert _same_edges(small_ticket, loaded)
    assert all(isinstance(e, KeptEdges) for e in loaded.edges)


def _rewritten(ticket, tmp_path, edit):
    """The ticket saved, then its file rewritten by ``edit(header, tensors)`` with consistent
    checksums (what a file of another format or a buggy writer would hold)."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from subsetsum.tickets.ticket import _checksums

    path = tmp_path / "t.ticket"
    ticket.save(path)
    with safe_open(str(path), framework="numpy") as f:
        header = json.loads(f.metadata()["subsetsum"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    edit(header, tensors)
    header.pop("checksums")
    header["checksums"] = _checksums(header, tensors)
    out = tmp_path / "rewritten.ticket"
    save_file(tensors, str(out), metadata={"subsetsum": json.dumps(header)})
    return out


def test_previous_format_with_index_pairs_still_loads(small_ticket, tmp_path):
    """Format /2 stored every sparse layer as (rows, cols) int32 pairs."""

    def to_index_pairs(header, tensors):
        for s, how in enumerate(header["storage"]):
            if how == "varint":
                for name in ("indptr", "byteptr", "varint"):
                    del tensors[f"edges.{name}.{s}"]
                tensors[f"edges.rows.{s}"], tensors[f"edges.cols.{s}"] = small_ticket.edges[s]
                header["storage"][s] = "indices"
        header["format"] = "subsetsum.ticket/2"

    assert _same_edges(small_ticket, Ticket.load(_rewritten(small_ticket, tmp_path, to_index_pairs)))


def test_previous_format_with_int32_rows_still_loads(small_ticket, tmp_path):
    """Format /3 stored every sparse layer as int64 row offsets and int32 columns."""

    def to_int32_rows(header, tensors):
        for s, how in enumerate(header["storage"]):
            if how == "varint":
                del tensors[f"edges.byteptr.{s}"], tensors[f"edges.varint.{s}"]
                tensors[f"edges.cols.{s}"] = small_ticket.edges[s].cols
                header["storage"][s] = "rows"
        header["format"] = "subsetsum.ticket/3"

    assert _same_edges(small_ticket, Ticket.load(_rewritten(small_ticket, tmp_path, to_int32_rows)))


def test_corrupted_row_offsets_are_refused(small_ticket, tmp_path):
    def decreasing_offsets(header, tensors):
        s = header["storage"].index("varint")
        indptr = tensors[f"edges.indptr.{s}"].copy()
        indptr[1], indptr[2] = indptr[2] + 1, indptr[1]
        tensors[f"edges.indptr.{s}"] = indptr

    with pytest.raises(ValueError, match="row offsets"):
        Ticket.load(_rewritten(small_ticket, tmp_path, decreasing_offsets))


def _damaged(small_ticket, tensors, s):
    """A layer's varint bytes in which no varint ends."""
    tensors[f"edges.varint.{s}"] = np.full_like(tensors[f"edges.varint.{s}"], 0x80)


def _widened(small_ticket, tensors, s):
    """A layer's columns moved past the layer's width."""
    e = KeptEdges(small_ticket.edges[s].indptr, small_ticket.edges[s].cols + small_ticket.shapes[s][1])
    tensors[f"edges.byteptr.{s}"], tensors[f"edges.varint.{s}"] = e.byteptr, e.data


@pytest.mark.parametrize("change,message", [(_damaged, "damaged"), (_widened, "outside its shape")])
def test_damaged_or_out_of_range_varint_columns_are_refused(small_ticket, tmp_path, change, message):
    def edit(header, tensors):
        change(small_ticket, tensors, header["storage"].index("varint"))

    with pytest.raises(ValueError, match=message):
        Ticket.load(_rewritten(small_ticket, tmp_path, edit))


def test_ticket_given_pairs_converts_them(small_ticket):
    t = small_ticket
    pairs = [(np.asarray(r)[::-1].copy(), np.asarray(c)[::-1].copy()) for r, c in t.edges]  # unsorted
    u = Ticket(t.target, t.shapes, pairs, t.bias_rows, t.scales, t.source, t.er, t.metadata, t.errors,
               t.output_bounds)
    assert _same_edges(t, u) and u.parameters == t.parameters


def test_streamed_safetensors_file_reads_back_with_safetensors_itself(tmp_path):
    """Ticket.save writes the file array by array; safetensors' own reader reads every dtype back."""
    from safetensors.numpy import load_file

    from subsetsum.tickets.ticket import _write_safetensors

    rng = np.random.default_rng(0)
    tensors = {"b": rng.random(7) < 0.5, "i32": rng.integers(-9, 9, (3, 4)).astype(np.int32),
               "i64": rng.integers(0, 1 << 40, 5), "f32": rng.random((2, 3)).astype(np.float32),
               "f64": rng.random((4, 1)).T, "u8": rng.integers(0, 255, 9).astype(np.uint8),
               "empty": np.zeros((0, 3)), "scalar": np.float64(2.5) * np.ones(()),
               "big_endian": np.arange(3, dtype=">i4")}
    path = tmp_path / "x.safetensors"
    _write_safetensors(path, dict(tensors), {"k": "v"})
    back = load_file(str(path))
    assert set(back) == set(tensors)
    for name, arr in tensors.items():
        assert back[name].shape == arr.shape and np.array_equal(back[name], arr), name
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == {"k": "v"}


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 40), n_cols=st.integers(1, 70),
       density=st.floats(0.0, 1.0), batch=st.sampled_from([1, 5, 64, 1 << 23]))
def test_packed_bits_equal_numpy_packbits_of_the_dense_mask(seed, n_rows, n_cols, density, batch):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_rows, n_cols)) < density
    rows, cols = np.nonzero(mask)
    extra = rng.integers(0, rows.size, rows.size // 3) if rows.size else np.zeros(0, np.int64)
    edges = KeptEdges.from_pairs(np.concatenate([rows, rows[extra]]), np.concatenate([cols, cols[extra]]), n_rows)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(edges_mod, "BITS_PER_BATCH", batch)
        bits = edges.packed_bits(n_cols)
        np.testing.assert_array_equal(bits, np.packbits(mask.ravel()))  # repeats set one bit
        back = KeptEdges.from_packed_bits(bits, (n_rows, n_cols))
    ref = KeptEdges.from_pairs(rows, cols, n_rows)
    np.testing.assert_array_equal(back.indptr, ref.indptr)
    np.testing.assert_array_equal(back.cols, ref.cols)
