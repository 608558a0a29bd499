import CNcurses
import Foundation
import OpsKit

/// The terminal under ncurses: draws styled lines, decodes keys. Owned by one thread (ncurses is
/// not thread-safe); `end()` gives the terminal back as it was.
final class CursesScreen {
    enum Input: Equatable {
        case key(DashboardKey)
        case resize
    }

    /// Whether the terminal shows UTF-8 (block sparklines, arrows); ASCII stand-ins otherwise.
    let unicode: Bool
    private let colors: Bool
    private var ended = false

    /// Takes over the terminal; nil when ncurses cannot drive it (unknown TERM). Unlike
    /// initscr, newterm reports the failure instead of exiting the process.
    static func open(environment: [String: String] = ProcessInfo.processInfo.environment) -> CursesScreen? {
        setlocale(LC_ALL, "")
        guard let terminal = wc_newterm() else { return nil }
        set_term(terminal)
        return CursesScreen(environment: environment)
    }

    private init(environment: [String: String]) {
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        unicode = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        cbreak()
        noecho()
        keypad(wc_stdscr(), true)
        nodelay(wc_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        colors = has_colors() && (environment["NO_COLOR"] ?? "").isEmpty
        if colors {
            start_color()
            use_default_colors()
            init_pair(1, Int16(COLOR_GREEN), -1)
            init_pair(2, Int16(COLOR_YELLOW), -1)
            init_pair(3, Int16(COLOR_RED), -1)
            init_pair(4, Int16(COLOR_CYAN), -1)
            init_pair(5, Int16(COLOR_BLACK), Int16(COLOR_YELLOW))
        }
    }

    deinit { end() }

    var size: (width: Int, height: Int) { (Int(wc_cols()), Int(wc_lines())) }

    func draw(_ lines: [ScreenLine]) {
        let screen = wc_stdscr()
        werase(screen)
        for (row, line) in lines.enumerated() {
            wmove(screen, Int32(row), 0)
            for span in line {
                let attributes = attributes(of: span.style)
                wattron(screen, attributes)
                waddstr(screen, unicode ? span.text : Self.ascii(span.text))
                wattroff(screen, attributes)
            }
        }
        wrefresh(screen)
    }

    /// Every key waiting, without blocking.
    func pendingInput() -> [Input] {
        var inputs: [Input] = []
        while true {
            let code = wgetch(wc_stdscr())
            if code == ERR { break }
            if let input = Self.decode(code) { inputs.append(input) }
        }
        return inputs
    }

    func end() {
        guard !ended else { return }
        ended = true
        curs_set(1)
        endwin()
    }

    static func decode(_ code: Int32) -> Input? {
        switch code {
        case KEY_RESIZE: return .resize
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_ENTER, 10, 13: return .key(.enter)
        case 9: return .key(.tab)
        case 27: return .key(.escape)
        case KEY_BACKSPACE, 127, 8: return .key(.backspace)
        case 32...126: return .key(.character(Character(UnicodeScalar(UInt8(code)))))
        default: return nil
        }
    }

    private func attributes(of style: ScreenSpan.Style) -> Int32 {
        func pair(_ number: Int32) -> Int32 { colors ? wc_color_pair(number) : 0 }
        switch style {
        case .plain: return 0
        case .title: return wc_bold() | pair(4)
        case .header: return wc_bold()
        case .dim: return wc_dim()
        case .ok: return pair(1)
        case .warning: return pair(2) | (colors ? 0 : wc_bold())
        case .critical: return pair(3) | wc_bold()
        case .selected: return wc_reverse()
        case .prompt: return colors ? pair(5) | wc_bold() : wc_reverse()
        }
    }

    /// Stand-ins for the few non-ASCII characters the layout uses.
    static func ascii(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "…": out += "~"
            case "·": out += "-"
            case "µ": out += "u"
            case "↑": out += "^"
            case "↓": out += "v"
            case "█": out += "_"
            default: out += character.isASCII ? String(character) : "?"
            }
        }
        return out
    }
}
