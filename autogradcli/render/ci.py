"""Formats for CI systems: JUnit XML, and GitHub Actions annotations."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from ..errors import xml_text
from ..verify.oracle import ERROR, FAIL, Result


def junit(results: list[Result]) -> str:
    """JUnit XML: a testsuite per file, a testcase per output × input, claim or rule."""
    by_file: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_file[r.file].append(r)
    root = ET.Element("testsuites", name="agrad check")
    for file, rows in by_file.items():
        failures = sum(r.failed for r in rows)
        errors = sum(r.status == ERROR for r in rows)
        skipped = sum(r.status.startswith("skipped") for r in rows)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=xml_text(file),
            tests=str(len(rows)),
            failures=str(failures),
            skipped=str(skipped),
            errors=str(errors),
        )
        for r in rows:
            case = ET.SubElement(
                suite, "testcase", classname=xml_text(file), name=xml_text(_name(r))
            )
            if r.status == ERROR:
                error = ET.SubElement(case, "error", message=xml_text(r.detail))
                error.text = xml_text(f"{r.file}:{r.line}: {r.detail}")
            elif r.failed:
                message = xml_text(f"{_name(r)}: {r.detail}")
                failure = ET.SubElement(case, "failure", message=message)
                failure.text = xml_text(f"{r.file}:{r.line}: {r.detail}")
            elif r.status.startswith("skipped") or r.status == "not differentiable here":
                ET.SubElement(case, "skipped", message=xml_text(r.status))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _name(r: Result) -> str:
    if r.kind == "gradient":
        return f"d{r.output}/d{r.wrt}"
    return r.output


def github_annotations(results: list[Result]) -> list[str]:
    """`::error file=...,line=...::message` lines for each failure."""
    lines = []
    for r in results:
        if r.status in (FAIL, ERROR):
            text = f"{_name(r)} failed: {r.detail}" if r.status == FAIL else r.detail
            message = escape_data(text)
            where = f"file={escape_property(r.file)},line={max(r.line, 1)}"
            lines.append(f"::error {where}::{message}")
    return lines


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped, as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
