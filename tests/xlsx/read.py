"""Reads an .xlsx file with openpyxl (an independent reader) and prints it as JSON:
every sheet with its frozen cell, column widths, header row and rows. Dates come out
as {"date": "YYYY-MM-DD"} only when the cell holds an Excel date (a number with a date
format), so a date written as text would not pass for one."""
import datetime
import json
import sys

import openpyxl
from openpyxl.utils import get_column_letter


def cell_value(cell):
    value = cell.value
    if isinstance(value, datetime.datetime):
        assert cell.is_date, cell.coordinate
        return {"date": value.date().isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, (int, float)) and "%" in cell.number_format:
        return {"rate": value}
    return value


def main(path):
    book = openpyxl.load_workbook(path)
    sheets = []
    for sheet in book.worksheets:
        rows = [[cell_value(c) for c in row] for row in sheet.iter_rows()]
        # A <col> element may cover several columns (min..max): one width per column.
        widths = {}
        for dim in sheet.column_dimensions.values():
            if dim.width and dim.min and dim.max:
                for index in range(dim.min, dim.max + 1):
                    widths[get_column_letter(index)] = dim.width
        header_bold = all(c.font.bold for c in sheet[1] if c.value is not None) if rows else False
        sheets.append(
            {
                "name": sheet.title,
                "frozen": sheet.freeze_panes,
                "widths": widths,
                "header_bold": header_bold,
                "header": rows[0] if rows else [],
                "rows": rows[1:],
            }
        )
    print(json.dumps({"sheets": sheets}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
