/// Splits an SQL script into its statements at top-level semicolons, the way PostgreSQL's lexer
/// sees them: not inside '...' (with '' and E'\\'' escapes), "...", $tag$...$tag$, -- comments
/// or nested /* */ comments. A migration that runs outside a transaction sends its statements one
/// by one (`CREATE INDEX CONCURRENTLY` refuses to share a query string).
public enum SQLStatements {
    public struct Statement: Equatable, Sendable {
        public var text: String
        /// 1-based line of the statement's first character in the script.
        public var line: Int
        /// 1-based character offset of its first character in the script.
        public var offset: Int
    }

    public static func split(_ script: String) -> [Statement] {
        let characters = Array(script.unicodeScalars)
        var statements: [Statement] = []
        var start = 0
        var index = 0
        var line = 1
        var startLine = 1
        func finish(at end: Int) {
            let piece = characters[start..<end]
            // The statement starts after the whitespace and comments before it.
            let leading = leadingTrivia(piece)
            guard leading < piece.count else { return }
            let text = String(String.UnicodeScalarView(piece.dropFirst(leading)))
            let leadingLines = piece.prefix(leading).filter { $0 == "\n" }.count
            statements.append(Statement(text: text.trimmingTrailingWhitespace, line: startLine + leadingLines, offset: start + leading + 1))
        }
        func advance(_ count: Int = 1) {
            for _ in 0..<count where index < characters.count {
                if characters[index] == "\n" { line += 1 }
                index += 1
            }
        }
        func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < characters.count ? characters[index + offset] : nil }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case ";":
                finish(at: index)
                advance()
                start = index
                startLine = line
            case "-" where peek(1) == "-":
                while index < characters.count && characters[index] != "\n" { advance() }
            case "/" where peek(1) == "*":
                var depth = 0
                repeat {
                    if characters[index] == "/" && peek(1) == "*" {
                        depth += 1
                        advance(2)
                    } else if characters[index] == "*" && peek(1) == "/" {
                        depth -= 1
                        advance(2)
                    } else {
                        advance()
                    }
                } while depth > 0 && index < characters.count
            case "'":
                // E'...' strings take backslash escapes.
                let escapes = index > 0 && (characters[index - 1] == "E" || characters[index - 1] == "e")
                    && (index < 2 || !isIdentifier(characters[index - 2]))
                advance()
                while index < characters.count {
                    if escapes && characters[index] == "\\" {
                        advance(2)
                    } else if characters[index] == "'" {
                        if peek(1) == "'" { advance(2) } else { advance(); break }
                    } else {
                        advance()
                    }
                }
            case "\"":
                advance()
                while index < characters.count {
                    if characters[index] == "\"" {
                        if peek(1) == "\"" { advance(2) } else { advance(); break }
                    } else {
                        advance()
                    }
                }
            case "$" where index == 0 || !isIdentifier(characters[index - 1]):
                // $tag$ ... $tag$ (a tag is optional; $1 is a parameter, not a quote).
                var end = index + 1
                while end < characters.count, isIdentifier(characters[end]), !(end == index + 1 && isDigit(characters[end])) { end += 1 }
                guard end < characters.count, characters[end] == "$" else {
                    advance()
                    continue
                }
                let tag = Array(characters[index...end])
                advance(tag.count)
                while index < characters.count {
                    if characters[index] == "$", index + tag.count <= characters.count, Array(characters[index..<index + tag.count]) == tag {
                        advance(tag.count)
                        break
                    }
                    advance()
                }
            default:
                advance()
            }
        }
        finish(at: characters.count)
        return statements
    }

    private static func isIdentifier(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isAlphabetic || isDigit(scalar) || scalar.value > 127
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// How many scalars of whitespace, `--` comments and `/* */` comments (nested) open `piece`.
    private static func leadingTrivia(_ piece: ArraySlice<Unicode.Scalar>) -> Int {
        var index = piece.startIndex
        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < piece.endIndex ? piece[index + offset] : nil }
        while index < piece.endIndex {
            let scalar = piece[index]
            if scalar.properties.isWhitespace {
                index += 1
            } else if scalar == "-", at(1) == "-" {
                while index < piece.endIndex, piece[index] != "\n" { index += 1 }
            } else if scalar == "/", at(1) == "*" {
                var depth = 0
                repeat {
                    if piece[index] == "/", at(1) == "*" {
                        depth += 1
                        index += 2
                    } else if piece[index] == "*", at(1) == "/" {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                } while depth > 0 && index < piece.endIndex
            } else {
                break
            }
        }
        return index - piece.startIndex
    }
}

extension String {
    var trimmingTrailingWhitespace: String {
        var copy = self
        while let last = copy.last, last.isWhitespace || last.isNewline { copy.removeLast() }
        return copy
    }
}
