#ifndef WHISPER_CNCURSES_SHIM_H
#define WHISPER_CNCURSES_SHIM_H
// SwiftPM drops pkg-config -D flags, so the wide-character define lives here.
#define NCURSES_WIDECHAR 1
#include <ncurses.h>

// C globals are unusable under Swift 6 strict concurrency; read them through functions.
static inline WINDOW *wc_stdscr(void) { return stdscr; }
static inline int wc_lines(void) { return LINES; }
static inline int wc_cols(void) { return COLS; }
// newterm on the standard streams (stdin/stdout are C globals too).
static inline SCREEN *wc_newterm(void) { return newterm(NULL, stdout, stdin); }
// Attribute macros Swift cannot import.
static inline int wc_color_pair(int pair) { return (int)COLOR_PAIR(pair); }
static inline int wc_bold(void) { return (int)A_BOLD; }
static inline int wc_dim(void) { return (int)A_DIM; }
static inline int wc_reverse(void) { return (int)A_REVERSE; }
#endif
