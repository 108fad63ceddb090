"""Data: upload exports, check and correct the column mapping, validate, import, undo.

Viewers see what the database holds and the import history; the uploader and the undo are shown only
to roles that may use them, each with a sentence saying why not (the library functions refuse anyway).
"""
import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from loyalty.access import UPLOADER, PermissionDenied, refusal, undo_refusal
from loyalty.importer import FileRejected, UndoRefused, batches, import_files, rejected_rows, undo_batch
from loyalty.mapping import merge, save_mapping, saved_mappings
from loyalty.readers import DELIMITER_NAMES, FileUnreadable, preview_file
from loyalty.schema import KIND_LABELS, KINDS, spec
from loyalty.store_summary import summary
from loyalty.ui import clear_caches, current_user, download_table, oversized_uploads, show_rows, store

NONE = "— not in this file —"
FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet", "gz"]

user = current_user()
st.title("Data")
st.caption(
    "Bring in your monthly exports. Each file becomes one batch: re-uploading a month or an overlapping "
    "export never counts anything twice, and every batch can be undone."
)


def saved_upload_paths(files) -> list[Path]:
    """Write the uploaded files to this session's temporary folder (once per upload) and return their
    paths; the folder is removed when the session ends and its state is collected."""
    folder = Path(st.session_state.setdefault("upload_dir", tempfile.TemporaryDirectory(prefix="loyalty-upload-")).name)
    paths = []
    for f in files:
        target = folder / f.file_id / f.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.getbuffer())
        paths.append(target)
    return paths


def mapping_editor(kind: str, headers: list[str], key: str) -> dict[str, str]:
    """One select box per canonical column, proposed automatically or from a saved mapping."""
    with store() as con:
        saved = saved_mappings(con, kind)
    choice = st.selectbox("Start from", ["Automatic matching", *saved], key=f"{key}-saved",
                          help="Mappings you saved for earlier files of this kind.")
    proposal = merge(kind, headers, {c: h for c, h in saved.get(choice, {}).items() if h in headers})
    table = spec(kind)
    mapping = {}
    cols = st.columns(3)
    for i, column in enumerate(table.columns):
        label = column.name + (" *" if column.name in table.required else "")
        options = [NONE, *headers]
        default = proposal.get(column.name)
        picked = cols[i % 3].selectbox(
            label, options, index=options.index(default) if default in options else 0,
            key=f"{key}-{choice}-{column.name}",
        )
        if picked != NONE:
            mapping[column.name] = picked
    taken = pd.Series(list(mapping.values()))
    if taken.duplicated().any():
        st.warning(f"The column '{taken[taken.duplicated()].iloc[0]}' is mapped twice; the last choice wins.")
    with st.popover("Save this mapping for next month"):
        name = st.text_input("Mapping name", key=f"{key}-name", placeholder="e.g. ERP orders export")
        if st.button("Save mapping", key=f"{key}-save"):
            try:
                with store() as con:
                    save_mapping(con, name, kind, mapping, user=user)
                st.success(f"Saved as '{name.strip()}'.")
            except (ValueError, PermissionDenied) as exc:
                st.error(str(exc))
    return mapping


def show_report(summaries) -> None:
    """The validation report: counts, rejected rows by reason with examples, the records to be stored."""
    for s in summaries:
        st.markdown(f"**{s.file_name}**")
        c = st.columns(6)
        c[0].metric("Rows read", f"{s.rows_read:,}")
        c[1].metric("Accepted", f"{s.accepted:,}")
        c[2].metric("Rejected", f"{s.rejected:,}")
        c[3].metric("New", f"{s.inserted:,}")
        c[4].metric("Changed", f"{s.updated:,}")
        c[5].metric("Already stored", f"{s.unchanged:,}")
        for note in s.notes:
            st.caption(note)
        if s.rejected_by_reason:
            rows = [
                {"reason": reason, "rows": n,
                 "example lines": ", ".join(str(line) for line, _ in s.examples.get(reason, [])),
                 "example": s.examples.get(reason, [(None, "")])[0][1]}
                for reason, n in s.rejected_by_reason.items()
            ]
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        with st.expander(f"First {len(s.preview)} records as they will be stored"):
            st.dataframe(pd.DataFrame(s.preview), hide_index=True, width="stretch")


def upload_section() -> None:
    refused = refusal(user, UPLOADER, "Importing")
    if refused:
        st.info(f"{refused} You can browse every page and download the import history; ask an admin for the "
                "uploader role to bring in files.")
        return
    kind = st.selectbox("What are you uploading?", KINDS, format_func=KIND_LABELS.get, key="data-kind")
    table = spec(kind)
    st.caption(f"Required columns: {', '.join(table.required)}. Optional: "
               f"{', '.join(c.name for c in table.columns if not c.required)}.")
    files = st.file_uploader("Export files (CSV, TSV, TXT, XLSX, Parquet; .gz accepted)", type=FILE_TYPES,
                             accept_multiple_files=True, key="data-files")
    if not files:
        st.info("Choose one or more files of the same kind and shape, for example this month's orders export.")
        return
    too_large = oversized_uploads(files)
    if too_large:
        for message in too_large:
            st.error(message)
        return
    paths = saved_upload_paths(files)
    try:
        staged, sample = preview_file(paths[0])
        sheet = None
        if staged.sheets and len(staged.sheets) > 1:
            sheet = st.selectbox("Sheet", staged.sheets, key="data-sheet")
            staged, sample = preview_file(paths[0], sheet)
    except FileUnreadable as exc:
        st.error(str(exc))
        return
    fmt = (f"{DELIMITER_NAMES[staged.delimiter]}-separated text, {staged.encoding}"
           if staged.file_format == "text" else staged.file_format.upper())
    st.subheader("1 · Preview")
    st.caption(f"{files[0].name}: {fmt}, {len(staged.columns)} columns. First rows as they are in the file:")
    st.dataframe(sample, hide_index=True, width="stretch")

    st.subheader("2 · Column mapping")
    st.caption("Each canonical column and the file column it is read from. * marks required columns.")
    signature = hashlib.sha1("|".join([kind, *staged.columns]).encode()).hexdigest()[:10]
    mapping = mapping_editor(kind, staged.columns, key=f"map-{signature}")

    st.subheader("3 · Validate")
    state_key = (kind, tuple(str(p) for p in paths), sheet, tuple(sorted(mapping.items())))
    if st.button("Check the files", key="data-validate"):
        try:
            with st.spinner("Reading and checking every row…"), store() as con:
                st.session_state["validation"] = (state_key, import_files(
                    con, kind, paths, mapping=mapping, sheet=sheet, dry_run=True, user=user,
                    display_names=[f.name for f in files]))
        except (FileRejected, PermissionDenied) as exc:
            st.session_state.pop("validation", None)
            st.error(str(exc))
    validation = st.session_state.get("validation")
    if not validation or validation[0] != state_key:
        st.info("Check the files to see how many rows will be accepted, and why any are rejected.")
        return
    summaries = validation[1]
    show_report(summaries)

    st.subheader("4 · Import")
    records = sum(s.records for s in summaries)
    if st.button(f"Import {records:,} records", type="primary", key="data-import"):
        bar = st.progress(0.0, text="Starting…")
        try:
            with store() as con:
                done = import_files(con, kind, paths, mapping=mapping, sheet=sheet, user=user,
                                    progress=lambda f, text: bar.progress(f, text=text),
                                    display_names=[f.name for f in files])
        except (FileRejected, PermissionDenied) as exc:
            st.error(str(exc))
            return
        clear_caches()
        st.session_state.pop("validation", None)
        st.success("Imported " + "; ".join(
            f"{s.file_name} as batch {s.batch_id} ({s.inserted:,} new, {s.updated:,} changed, "
            f"{s.rejected:,} rejected)" for s in done))


def history_section() -> None:
    st.subheader("Import history")
    if "data-flash" in st.session_state:
        st.success(st.session_state.pop("data-flash"))
    with store() as con:
        history = batches(con)
    if history.empty:
        st.info("No batches yet: your imports will be listed here, each with an undo.")
        return
    shown = history.drop(columns=["sha256"])   # the download keeps each file's fingerprint
    show_rows(len(history), lambda rows: shown.iloc[rows], history, "import_batches", key="history")
    labels = {b: f"{b} · {file} ({status})" for b, file, status in zip(history["batch"], history["file"], history["status"])}
    batch_id = st.selectbox("Batch", list(labels), key="data-batch", format_func=labels.get)
    left, right = st.columns(2)
    with store() as con:
        rejected = rejected_rows(con, int(batch_id))
    with left:
        if rejected.empty:
            st.caption(f"Batch {batch_id} has no rejected rows.")
        else:
            download_table(rejected, f"batch_{batch_id}_rejected_rows",
                           f"Download rejected rows ({len(rejected):,})", key="dl-rejected")
    with right:
        refused = undo_refusal(user, int(batch_id), history.set_index("batch").at[batch_id, "uploaded_by"])
        if refused:
            st.caption(refused)
            return
        confirm = st.checkbox(f"Yes, take batch {batch_id} back", key="data-undo-confirm")
        if st.button(f"Undo batch {batch_id}", disabled=not confirm, key="data-undo"):
            try:
                with store() as con:
                    result = undo_batch(con, int(batch_id), user=user)
                clear_caches()
                st.session_state["data-flash"] = (
                    f"Batch {batch_id} undone: {result['removed']:,} records removed, "
                    f"{result['restored']:,} restored to their earlier values.")
                st.session_state.pop("data-undo-confirm", None)
                st.rerun()
            except (UndoRefused, PermissionDenied) as exc:
                st.error(str(exc))


def holdings() -> None:
    """One line on what the database holds now."""
    with store() as con:
        held = summary(con)
    parts = [f"{info['records']:,} {kind}" + (f" ({info['first']:%d %b %Y} – {info['last']:%d %b %Y})" if info["first"] else "")
             for kind, info in held.items()]
    st.caption("In the database: " + " · ".join(parts))


holdings()
upload_section()
st.divider()
history_section()
