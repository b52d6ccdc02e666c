"""Parquet / JSON Lines records with an id and a text column (issue 17): reader, writer,
bad input; ``extract`` takes them (ids in the result)."""

from __future__ import annotations

import pytest

from mbert_lab.data.readers.records import (
    check_record_file,
    is_record_file,
    read_records,
    write_records,
)
from mbert_lab.errors import ConfigError, InputError

IDS = ["d1", "d2", "d3"]
TEXTS = ["Hallo Welt.", "Guten Morgen, \u3000 Tokyo.", "Ça va ?"]


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_written_records_read_back_equal(tmp_path, suffix) -> None:
    p = write_records(tmp_path / f"r{suffix}", IDS, TEXTS, id_column="doc", text_column="sentence")
    assert is_record_file(p) and not is_record_file(tmp_path / "r.txt")
    assert read_records(p, id_column="doc", text_column="sentence") == (IDS, TEXTS)
    check_record_file(p, id_column="doc", text_column="sentence")
    with pytest.raises(InputError, match=rf"r\{suffix}: no text column 'text' \(columns: doc, sentence\); name it with --text-column"):
        check_record_file(p, id_column="doc")
    with pytest.raises(InputError, match="no id (column|field) 'id'"):
        read_records(p, text_column="sentence")


def test_integer_ids_become_strings_and_bad_rows_name_row_and_column(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "n.parquet"
    pq.write_table(pa.table({"id": [7, 8], "text": ["a", "b"]}), p)
    assert read_records(p) == (["7", "8"], ["a", "b"])
    pq.write_table(pa.table({"id": [7, 7], "text": ["a", "b"]}), p)
    with pytest.raises(InputError, match=r"row 2: id '7' in column 'id' repeats row 1"):
        read_records(p)
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["x", None]}), p)
    with pytest.raises(InputError, match=r"row 2: column 'text' must be a non-blank string"):
        read_records(p)
    j = tmp_path / "bad.jsonl"
    j.write_text('{"id": "a", "text": "x"}\n{"id": 1.5, "text": "y"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: column 'id' must be a string or an integer"):
        read_records(j)
    j.write_text('{"id": "a", "text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: not JSON"):
        read_records(j)
    j.write_text('{"id": "a", "text": "x"}\n\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: blank line"):  # the line rule of data/readers/text.py
        read_records(j)
    (tmp_path / "fake.parquet").write_text("id,text\n", encoding="utf-8")
    with pytest.raises(InputError, match="fake.parquet: not a Parquet file"):
        read_records(tmp_path / "fake.parquet")
    with pytest.raises(InputError, match="no such file"):
        check_record_file(tmp_path / "none.parquet")
    with pytest.raises(InputError, match="is a folder"):
        check_record_file(tmp_path / "dir.jsonl") if (tmp_path / "dir.jsonl").mkdir() is None else None


def test_extract_reads_records_with_ids(tmp_path, tiny_encoder) -> None:
    import numpy as np

    from mbert_lab.studies.representations import RepresentationsConfig, extract

    txt = tmp_path / "t.txt"
    txt.write_text("".join(t + "\n" for t in TEXTS), encoding="utf-8")
    write_records(tmp_path / "r.parquet", IDS, TEXTS, text_column="s")
    write_records(tmp_path / "r.jsonl", IDS, TEXTS, text_column="s")
    kw = {"layers": "2", "outputs": ("sentence",), "cache": False}
    plain = extract(RepresentationsConfig(file=str(txt), **kw), encoder=tiny_encoder)
    assert plain.ids == ()
    for f in ("r.parquet", "r.jsonl"):
        r = extract(RepresentationsConfig(file=str(tmp_path / f), text_column="s", **kw), encoder=tiny_encoder)
        assert r.ids == tuple(IDS) and r.tokens == plain.tokens
        assert np.array_equal(r.corpus.sentence(2), plain.corpus.sentence(2))
    with pytest.raises(InputError, match="r.parquet: no text column 'text'"):
        extract(RepresentationsConfig(file=str(tmp_path / "r.parquet"), **kw), encoder=tiny_encoder)
    with pytest.raises(ConfigError, match="id_column: only for a Parquet / JSON Lines file"):
        RepresentationsConfig(file=str(txt), id_column="id")
