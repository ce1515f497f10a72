"""A small document (sections of paragraphs, bullet lists and tables) and its Markdown and
HTML renderings. Text is escaped for each: a merchant's name or a support address can never
become markup."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass, field


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Bullets:
    items: list[str]


Block = str | Table | Bullets


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    lang: str
    title: str
    intro: list[str]
    sections: list[Section]
    footer: list[str]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def markdown(document: Document) -> str:
    out = [f"# {_md(document.title)}", ""]
    out += [line for text in document.intro for line in (_md(text), "")]
    for section in document.sections:
        out += [f"## {_md(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                out.append("| " + " | ".join(_md(h) for h in block.header) + " |")
                out.append("|" + "---|" * len(block.header))
                out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
            elif isinstance(block, Bullets):
                out += [f"- {_md(item)}" for item in block.items]
            else:
                out.append(_md(block))
            out.append("")
    out += ["---", ""]
    out += [line for text in document.footer for line in (f"*{_md(text)}*", "")]
    return "\n".join(out).rstrip("\n") + "\n"


_STYLE = ("body{font-family:system-ui,-apple-system,\"Segoe UI\",\"PingFang SC\","
          "\"Microsoft YaHei\",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
          "line-height:1.6;color:#1f2328}table{border-collapse:collapse;margin:1rem 0}"
          "th,td{border:1px solid #d0d7de;padding:.4rem .7rem;text-align:left;"
          "vertical-align:top}th{background:#f6f8fa}footer{margin-top:2rem;color:#57606a;"
          "font-size:.9rem}")
# The Content-Security-Policy a page of ``to_html`` is served with: nothing loads, and the one
# inline style runs because its hash is named.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
HTML_POLICY = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def to_html(document: Document) -> str:
    out = ["<!DOCTYPE html>", f'<html lang="{_h(document.lang)}">', "<head>",
           '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_h(document.title)}</title>", f"<style>{_STYLE}</style>", "</head>",
           "<body>", f"<h1>{_h(document.title)}</h1>"]
    out += [f"<p>{_h(text)}</p>" for text in document.intro]
    for section in document.sections:
        out.append(f"<h2>{_h(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                out.append("<table>")
                out.append("<tr>" + "".join(f"<th>{_h(h)}</th>" for h in block.header) +
                           "</tr>")
                out += ["<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>"
                        for row in block.rows]
                out.append("</table>")
            elif isinstance(block, Bullets):
                out.append("<ul>" + "".join(f"<li>{_h(i)}</li>" for i in block.items) +
                           "</ul>")
            else:
                out.append(f"<p>{_h(block)}</p>")
    out.append("<footer>" + "".join(f"<p>{_h(text)}</p>" for text in document.footer) +
               "</footer>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
