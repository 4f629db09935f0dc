"""Reads a PDF with pypdf (an independent reader) and prints, as JSON, each page's
size in points and its text."""
import json
import sys

from pypdf import PdfReader


def main(path):
    reader = PdfReader(path)
    pages = [
        {
            "width": float(page.mediabox.width),
            "height": float(page.mediabox.height),
            "text": page.extract_text() or "",
        }
        for page in reader.pages
    ]
    print(json.dumps({"pages": pages}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
