#ifndef WHISPER_CNCURSES_SHIM_H
#define WHISPER_CNCURSES_SHIM_H
// SwiftPM drops pkg-config -D flags, so the wide-character define lives here.
#define NCURSES_WIDECHAR 1
#include <ncurses.h>

// C globals are unusable under Swift 6 strict concurrency; read them through functions.
static inline WINDOW *wc_stdscr(void) { return stdscr; }
static inline int wc_lines(void) { return LINES; }
static inline int wc_cols(void) { return COLS; }
#endif
