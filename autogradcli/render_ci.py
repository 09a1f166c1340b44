"""Formats for CI systems: JUnit XML, and GitHub Actions annotations."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from .check import FAIL, Result


def junit(results: list[Result]) -> str:
    """JUnit XML: a testsuite per file, a testcase per output × input, claim or rule."""
    by_file: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_file[r.file].append(r)
    root = ET.Element("testsuites", name="agrad check")
    for file, rows in by_file.items():
        failures = sum(r.failed for r in rows)
        skipped = sum(r.status.startswith("skipped") for r in rows)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(rows)),
            failures=str(failures),
            skipped=str(skipped),
            errors="0",
        )
        for r in rows:
            case = ET.SubElement(suite, "testcase", classname=file, name=_name(r))
            if r.failed:
                failure = ET.SubElement(case, "failure", message=f"{_name(r)}: {r.detail}")
                failure.text = f"{r.file}:{r.line}: {r.detail}"
            elif r.status.startswith("skipped") or r.status == "not differentiable here":
                ET.SubElement(case, "skipped", message=r.status)
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
        if r.status == FAIL:
            message = f"{_name(r)} failed: {r.detail}".replace("%", "%25").replace("\n", "%0A")
            lines.append(f"::error file={r.file},line={max(r.line, 1)}::{message}")
    return lines
