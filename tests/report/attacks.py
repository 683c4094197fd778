"""What a colleague with a pinned key can do to a signed report: pyhanko incremental updates.

Each helper takes the PDF's bytes and returns the bytes with one more revision (or two, when it
also signs). The second identity is made with the tool itself (`keys init` in its own home,
pinned with `case add-examiner`), as an insider would.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore
from tests.conftest import PASSPHRASE

COLLEAGUE = "Trần Văn Đồng"


def make_colleague(runner: CliRunner, tmp_path: Path, case_dir: Path | None) -> Identity:
    """A second examiner: key made with `keys init` in their own home; pinned in the case when
    `case_dir` is given (by the case's examiner, whose environment the test runs in)."""
    home = tmp_path / "colleague-home"
    env = {"EVIDENCEKIT_HOME": str(home), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    res = runner.invoke(cli, ["keys", "init", "--name", COLLEAGUE], env=env)
    assert res.exit_code == 0, res.output
    pem = tmp_path / "colleague.pem"
    res = runner.invoke(cli, ["keys", "export-cert", "--out", str(pem)], env=env)
    assert res.exit_code == 0, res.output
    if case_dir is not None:
        res = runner.invoke(cli, ["--case", str(case_dir), "case", "add-examiner", str(pem)])
        assert res.exit_code == 0, res.output
    store = IdentityStore(home)
    return store.unlock(store.find(), PASSPHRASE.encode())


def pyhanko_signer(identity: Identity) -> signers.SimpleSigner:
    cert = ax509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    key = akeys.PrivateKeyInfo.load(
        identity.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=cert, signing_key=key, cert_registry=SimpleCertificateStore.from_certs([cert])
    )


def _finish(writer: IncrementalPdfFileWriter, signer: Identity | None, field: str) -> bytes:
    out = io.BytesIO()
    if signer is None:
        writer.write(out)
    else:
        meta = signers.PdfSignatureMetadata(
            field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
        )
        signers.PdfSigner(meta, signer=pyhanko_signer(signer)).sign_pdf(writer, output=out)
    return out.getvalue()


def cosign(data: bytes, signer: Identity, field: str = "CoSigner") -> bytes:
    """A legitimate co-signature: one new revision, a new signature field, nothing else."""
    return _finish(IncrementalPdfFileWriter(io.BytesIO(data)), signer, field)


def _specs(writer: IncrementalPdfFileWriter) -> dict[str, generic.DictionaryObject]:
    arr = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    return {str(arr[i]): arr[i + 1].get_object() for i in range(0, len(arr), 2)}


def swap_in_place(
    data: bytes, new: dict[str, bytes], signer: Identity | None = None, field: str = "Colleague"
) -> bytes:
    """Replace attached files by overwriting their stream objects (same object numbers) in a new
    revision; sign that revision when `signer` is given."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    specs = _specs(w)
    for name, content in new.items():
        ref = specs[name]["/EF"].raw_get("/F")
        stream = generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")},
            stream_data=content,
        )
        w.mark_update(ref)
        w.objects[(ref.generation, ref.idnum)] = stream
    return _finish(w, signer, field)


def swap_by_pointer(
    data: bytes, new: dict[str, bytes], signer: Identity | None = None, field: str = "Colleague"
) -> bytes:
    """Replace attached files by adding new streams and pointing the file specifications at
    them (no existing stream is touched)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    specs = _specs(w)
    for name, content in new.items():
        ref = w.add_object(
            generic.StreamObject(
                {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")},
                stream_data=content,
            )
        )
        spec = specs[name]
        ef = generic.DictionaryObject(
            {generic.NameObject("/F"): ref, generic.NameObject("/UF"): ref}
        )
        spec[generic.NameObject("/EF")] = ef
        w.update_container(spec)
    return _finish(w, signer, field)


def add_attachment(
    data: bytes,
    name: str,
    content: bytes,
    signer: Identity | None = None,
    field: str = "Colleague",
    file_name: str | None = None,
) -> bytes:
    """Embed one more file with pyhanko's embedded-file API (the name is not checked by it)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    stream = embed.EmbeddedFileObject.from_file_data(w, data=content, mime_type="text/plain")
    spec = embed.FileSpec(
        file_spec_string=file_name if file_name is not None else name,
        file_name=file_name if file_name is not None else name,
        embedded_data=stream,
        description="attachment",
        af_relationship=None,
    )
    embed.embed_file(w, spec)
    # pyhanko keys the name tree by file_spec_string; re-key it when asked for another key
    if file_name is not None:
        arr = w.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(arr), 2):
            if str(arr[i]) == file_name:
                arr[i] = generic.pdf_string(name)
        w.update_container(arr)
    return _finish(w, signer, field)


def drop_signature_and_swap(
    data: bytes, field: str, new: dict[str, bytes], signer: Identity
) -> bytes:
    """Remove a signature field from the form and its widget from the pages, replace attached
    files, and sign: the dropped signature is no longer listed by PDF readers."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    acroform = w.root["/AcroForm"]
    kept = generic.ArrayObject(
        f for f in acroform["/Fields"] if str(f.get_object().get("/T")) != field
    )
    acroform[generic.NameObject("/Fields")] = kept
    w.update_container(acroform)
    w.update_root()
    page_ref, _res = w.find_page_for_modification(0)
    page = page_ref.get_object()
    if "/Annots" in page:
        annots = [a for a in page["/Annots"] if str(a.get_object().get("/T")) != field]
        page[generic.NameObject("/Annots")] = generic.ArrayObject(annots)
        w.update_container(page)
    specs = _specs(w)
    for name, content in new.items():
        ref = specs[name]["/EF"].raw_get("/F")
        w.mark_update(ref)
        w.objects[(ref.generation, ref.idnum)] = generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")},
            stream_data=content,
        )
    return _finish(w, signer, "Colleague")


def change_info(data: bytes, key: str, value: str, signer: Identity | None = None) -> bytes:
    """Rewrite one entry of the document information dictionary (what readers show as the
    document's author, title, subject) in a new revision."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    info_ref = w.trailer.raw_get("/Info")
    info = info_ref.get_object()
    info[generic.NameObject(key)] = generic.pdf_string(value)
    w.mark_update(info_ref)
    return _finish(w, signer, "Colleague")


XMP_CREATOR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:ModifyDate="2026-12-05T12:00:00+00:00">
<dc:creator><rdf:Seq><rdf:li>{name}</rdf:li></rdf:Seq></dc:creator>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def set_xmp(data: bytes, xmp: str, signer: Identity | None = None) -> bytes:
    """Point the catalog at a new XMP metadata stream (Acrobat shows its dc:creator as the
    author)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    ref = w.add_object(
        generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Metadata"),
                generic.NameObject("/Subtype"): generic.NameObject("/XML"),
            },
            stream_data=xmp.encode("utf-8"),
        )
    )
    w.root[generic.NameObject("/Metadata")] = ref
    w.update_root()
    # pyhanko's writer regenerates the XMP on write (and when signing); keep ours instead
    w._update_meta = lambda: None  # type: ignore[method-assign]
    return _finish(w, signer, "Colleague")


def add_text_field(data: bytes, value: str, signer: Identity | None = None) -> bytes:
    """A visible text form field (merged field and widget) on page 1, e.g. a "corrected" name."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _res = w.find_page_for_modification(0)
    page = page_ref.get_object()
    field = w.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Widget"),
                generic.NameObject("/FT"): generic.NameObject("/Tx"),
                generic.NameObject("/T"): generic.pdf_string("Examiner"),
                generic.NameObject("/V"): generic.pdf_string(value),
                generic.NameObject("/P"): page_ref,
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(x) for x in (100, 700, 400, 720)]
                ),
            }
        )
    )
    acroform = w.root["/AcroForm"]
    acroform[generic.NameObject("/Fields")] = generic.ArrayObject([*acroform["/Fields"], field])
    w.update_container(acroform)
    w.update_root()
    annots = page.get("/Annots", generic.ArrayObject())
    page[generic.NameObject("/Annots")] = generic.ArrayObject([*annots, field])
    w.update_container(page)
    return _finish(w, signer, "Colleague")


def add_page_text(data: bytes, text: bytes, signer: Identity | None = None) -> bytes:
    """Append drawing operators to page 1's content (what the page says), in a new revision."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref, _res = w.find_page_for_modification(0)
    page = page_ref.get_object()
    extra = w.add_object(generic.StreamObject(stream_data=b"q BT 50 50 Td " + text + b" ET Q"))
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.ArrayObject):
        new = generic.ArrayObject([*contents, extra])
    else:
        new = generic.ArrayObject([contents, extra])
    page[generic.NameObject("/Contents")] = new
    w.update_container(page)
    return _finish(w, signer, "Colleague")


def modification_levels(data: bytes) -> list[tuple[str, str, bool | None]]:
    """pyhanko's own verdict per signature: (field, modification level, DocMDP ok)."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    out = []
    for sig in reader.embedded_signatures:
        vc = ValidationContext(trust_roots=[sig.signer_cert], allow_fetching=False)
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        level = status.modification_level
        out.append((str(sig.field_name), level.name if level else "?", status.docmdp_ok))
    return out


def attached(data: bytes, name: str) -> bytes:
    """One attachment's bytes, read with pyhanko directly (not with the code under test)."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    arr = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    for i in range(0, len(arr), 2):
        if str(arr[i]) == name:
            return bytes(arr[i + 1].get_object()["/EF"]["/F"].data)
    raise KeyError(name)


def renamed_examiner(report_json: bytes, fingerprint: str) -> bytes:
    meta = json.loads(report_json)
    meta["examiner"]["fingerprint"] = fingerprint
    return json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def record_cosign(case_dir: Path, signer: Identity, data: bytes, field: str) -> None:
    """Record a co-signature made with `cosign` in the case's ledger, as `report cosign` does
    (a `report_cosigned` event of the co-signer binding the co-signed file)."""
    import hashlib

    from evidencekit.case import Case
    from evidencekit.report.sign import role_of
    from evidencekit.workflows.custody import record_event

    record_event(
        Case.open(case_dir),
        signer,
        "report_cosigned",
        None,
        description="report co-signed",
        digests={"sha256": hashlib.sha256(data).hexdigest()},
        details={"field": field, "size": len(data), "role": role_of(field, first=False)},
    )
