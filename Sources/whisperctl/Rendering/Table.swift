import Foundation

/// A plain text table: columns padded to their widest cell, the last column left ragged.
struct Table {
    var headers: [String]
    var rows: [[String]]

    /// - Parameter style: decorates a cell after padding (colour), given column and row index.
    func render(style: (Int, Int, String) -> String = { _, _, text in text }) -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String], row: Int) -> String {
            cells.enumerated().map { column, cell in
                let padded = column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                return row < 0 ? padded : style(column, row, padded)
            }.joined(separator: "  ")
        }
        var output = [line(headers, row: -1)]
        for (index, row) in rows.enumerated() { output.append(line(row, row: index)) }
        return output.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n")
    }
}
