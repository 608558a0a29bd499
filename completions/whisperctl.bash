#!/bin/bash

__whisperctl_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__whisperctl_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__whisperctl_add_completions() {
    # File and directory words are file names to bash (quoted, a slash after a directory).
    local argument
    for argument in "${@}"; do
        case "${argument}" in
        -f | -fX | -d | plusdirs) compopt -o filenames 2>/dev/null ;;
        esac
    done
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

# Succeeds when the words after a group's name belong to its default subcommand: no
# earlier word names one of the group's subcommands ($1), and the word being completed
# is an option or follows other words.
__whisperctl_is_default_subcommand() {
    local -ar words=("${unparsed_words[@]}")
    local -ir last="$((${#words[@]} - 1))"
    local -i index
    for ((index = 0; index < last; index++)); do
        [[ " ${1} " == *" ${words[index]} "* ]] && return 1
    done
    [[ "${cur}" == -* || "${last}" -gt 0 ]]
}

__whisperctl_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_whisperctl() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    status|config|loadtest|metrics|dashboard|top|demo|migrate|backup|restore|lock|rollout|scale|diag|capacity|cert|runbook|audit|audit-log|logs|bundle|version|help)
        # Offer subcommand argument completions
        "_whisperctl_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'status config loadtest metrics dashboard top demo migrate backup restore lock rollout scale diag capacity cert runbook audit audit-log logs bundle version help' -- "${cur}"))
        ;;
    esac
}

_whisperctl_status() {
    repeating_flags=()
    non_repeating_flags=(--json --insecure --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --timeout --watch)
    __whisperctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--timeout')
        return
        ;;
    '--watch')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion status -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_config() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    show|check)
        # Offer subcommand argument completions
        "_whisperctl_config_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'show check' -- "${cur}"))
        ;;
    esac
}

_whisperctl_config_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_config_check() {
    repeating_flags=()
    non_repeating_flags=(--json --offline --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_loadtest() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--url --metrics)
    non_repeating_options=(--connections --chatting-pairs --rate --duration --ramp --threads)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--connections')
        return
        ;;
    '--chatting-pairs')
        return
        ;;
    '--rate')
        return
        ;;
    '--duration')
        return
        ;;
    '--ramp')
        return
        ;;
    '--threads')
        return
        ;;
    '--metrics')
        return
        ;;
    esac
}

_whisperctl_metrics() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--match --cardinality --timeout)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--match')
        return
        ;;
    '--cardinality')
        return
        ;;
    '--timeout')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -f
        return
        ;;
    esac
}

_whisperctl_dashboard() {
    repeating_flags=()
    non_repeating_flags=(--read-only --emergency --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --interval --window --timeout)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--interval')
        return
        ;;
    '--window')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_whisperctl_top() {
    repeating_flags=()
    non_repeating_flags=(--once --json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --interval --window --timeout)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--interval')
        return
        ;;
    '--window')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_whisperctl_demo() {
    repeating_flags=()
    non_repeating_flags=(--no-tui --version -h --help)
    repeating_options=()
    non_repeating_options=(--duration --users --interval)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--duration')
        return
        ;;
    '--users')
        return
        ;;
    '--interval')
        return
        ;;
    esac
}

_whisperctl_migrate() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    status|up|down|goto|force|create)
        # Offer subcommand argument completions
        "_whisperctl_migrate_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'status up down goto force create' -- "${cur}"))
        ;;
    esac
}

_whisperctl_migrate_status() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    esac
}

_whisperctl_migrate_up() {
    repeating_flags=()
    non_repeating_flags=(--json --dry-run --no-wait --yes --backup-first --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --lock-timeout --retries)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--lock-timeout')
        return
        ;;
    '--retries')
        return
        ;;
    esac
}

_whisperctl_migrate_down() {
    repeating_flags=()
    non_repeating_flags=(--json --dry-run --no-wait --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --lock-timeout --retries)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--lock-timeout')
        return
        ;;
    '--retries')
        return
        ;;
    esac
}

_whisperctl_migrate_goto() {
    repeating_flags=()
    non_repeating_flags=(--json --dry-run --no-wait --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --lock-timeout --retries)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--lock-timeout')
        return
        ;;
    '--retries')
        return
        ;;
    esac
}

_whisperctl_migrate_force() {
    repeating_flags=()
    non_repeating_flags=(--json --dry-run --no-wait --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --lock-timeout --retries)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--lock-timeout')
        return
        ;;
    '--retries')
        return
        ;;
    esac
}

_whisperctl_migrate_create() {
    repeating_flags=()
    non_repeating_flags=(--json --no-transaction --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    esac
}

_whisperctl_backup() {
    # 'whisperctl backup' alone runs 'create': complete its options.
    if __whisperctl_is_default_subcommand 'create list verify prune'; then
        _whisperctl_backup_create
        return
    fi
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    create|list|verify|prune)
        # Offer subcommand argument completions
        "_whisperctl_backup_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'create list verify prune' -- "${cur}"))
        ;;
    esac
}

_whisperctl_backup_create() {
    repeating_flags=()
    non_repeating_flags=(--json --quiet --dry-run --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --wait --keep-days --keep-last --install-schedule --at --schedule-dir)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--wait')
        return
        ;;
    '--keep-days')
        return
        ;;
    '--keep-last')
        return
        ;;
    '--install-schedule')
        __whisperctl_add_completions -W 'cron'$'\n''systemd'
        return
        ;;
    '--at')
        return
        ;;
    '--schedule-dir')
        return
        ;;
    esac
}

_whisperctl_backup_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    esac
}

_whisperctl_backup_verify() {
    repeating_flags=()
    non_repeating_flags=(--json --restore-test --quiet --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --wait)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--wait')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion backup verify -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_backup_prune() {
    repeating_flags=()
    non_repeating_flags=(--json --dry-run --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --wait --keep-days --keep-last)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--wait')
        return
        ;;
    '--keep-days')
        return
        ;;
    '--keep-last')
        return
        ;;
    esac
}

_whisperctl_restore() {
    repeating_flags=()
    non_repeating_flags=(--json --with-config --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --dir --wait --target-db)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--wait')
        return
        ;;
    '--target-db')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion restore -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_lock() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    status|break)
        # Offer subcommand argument completions
        "_whisperctl_lock_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'status break' -- "${cur}"))
        ;;
    esac
}

_whisperctl_lock_status() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_lock_break() {
    repeating_flags=()
    non_repeating_flags=(--yes --force --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_rollout() {
    # 'whisperctl rollout' alone runs 'run': complete its options.
    if __whisperctl_is_default_subcommand 'run status history'; then
        _whisperctl_rollout_run
        return
    fi
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    run|status|history)
        # Offer subcommand argument completions
        "_whisperctl_rollout_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'run status history' -- "${cur}"))
        ;;
    esac
}

_whisperctl_rollout_run() {
    repeating_flags=()
    non_repeating_flags=(--start-with-unhealthy --no-soak --soak-idle-ok --auto-rollback --dry-run --json --yes --version -h --help)
    repeating_options=(--server --only)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --wait --max-unavailable --drain-timeout --ready-timeout --expect-version --soak --max-p99 --max-error-rate)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--wait')
        return
        ;;
    '--only')
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion rollout run -- --only "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    '--max-unavailable')
        return
        ;;
    '--drain-timeout')
        return
        ;;
    '--ready-timeout')
        return
        ;;
    '--expect-version')
        return
        ;;
    '--soak')
        return
        ;;
    '--max-p99')
        return
        ;;
    '--max-error-rate')
        return
        ;;
    esac
}

_whisperctl_rollout_status() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_rollout_history() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --last)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--last')
        return
        ;;
    esac
}

_whisperctl_scale() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    add|remove)
        # Offer subcommand argument completions
        "_whisperctl_scale_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'add remove' -- "${cur}"))
        ;;
    esac
}

_whisperctl_scale_add() {
    repeating_flags=()
    non_repeating_flags=(--write --dry-run --yes --json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--url --ready-timeout --config --redis --database-url --nats-monitor --haproxy-stats --wait)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--url')
        return
        ;;
    '--ready-timeout')
        return
        ;;
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--wait')
        return
        ;;
    esac
}

_whisperctl_scale_remove() {
    repeating_flags=()
    non_repeating_flags=(--write --dry-run --yes --json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--drain-timeout --config --redis --database-url --nats-monitor --haproxy-stats --wait)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--drain-timeout')
        return
        ;;
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--wait')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion scale remove -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_diag() {
    repeating_flags=()
    non_repeating_flags=(--json --rtt --apply --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --timeout --interval --tier --root --write-sysctl)
    __whisperctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--timeout')
        return
        ;;
    '--interval')
        return
        ;;
    '--tier')
        return
        ;;
    '--root')
        return
        ;;
    '--write-sysctl')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion diag -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_capacity() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--connections --active-ratio --msg-rate --per-instance)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--connections')
        return
        ;;
    '--active-ratio')
        return
        ;;
    '--msg-rate')
        return
        ;;
    '--per-instance')
        return
        ;;
    esac
}

_whisperctl_cert() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    combine|check|renew|self-signed)
        # Offer subcommand argument completions
        "_whisperctl_cert_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'combine check renew self-signed' -- "${cur}"))
        ;;
    esac
}

_whisperctl_cert_combine() {
    repeating_flags=()
    non_repeating_flags=(--allow-expired --json --version -h --help)
    repeating_options=(--cert)
    non_repeating_options=(--key --out --key-passphrase-file)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cert')
        return
        ;;
    '--key')
        return
        ;;
    '--out')
        return
        ;;
    '--key-passphrase-file')
        return
        ;;
    esac
}

_whisperctl_cert_check() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --connect --servername --host --warn-days --critical-days)
    __whisperctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--connect')
        return
        ;;
    '--servername')
        return
        ;;
    '--host')
        return
        ;;
    '--warn-days')
        return
        ;;
    '--critical-days')
        return
        ;;
    esac
}

_whisperctl_cert_renew() {
    repeating_flags=()
    non_repeating_flags=(--force --json --version -h --help)
    repeating_options=(--domain --verify)
    non_repeating_options=(--config --wait --certbot-dir --webroot --http-01-port --server --email --pem --method --reload-command --install-schedule --schedule-dir)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--wait')
        return
        ;;
    '--domain')
        return
        ;;
    '--certbot-dir')
        return
        ;;
    '--webroot')
        return
        ;;
    '--http-01-port')
        return
        ;;
    '--server')
        return
        ;;
    '--email')
        return
        ;;
    '--pem')
        return
        ;;
    '--method')
        return
        ;;
    '--reload-command')
        return
        ;;
    '--verify')
        return
        ;;
    '--install-schedule')
        return
        ;;
    '--schedule-dir')
        return
        ;;
    esac
}

_whisperctl_cert_self-signed() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--san)
    non_repeating_options=(--cn --days --out --key-type)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--cn')
        return
        ;;
    '--san')
        return
        ;;
    '--days')
        return
        ;;
    '--out')
        return
        ;;
    '--key-type')
        return
        ;;
    esac
}

_whisperctl_runbook() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show|validate|plan|run|resume|runs)
        # Offer subcommand argument completions
        "_whisperctl_runbook_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show validate plan run resume runs' -- "${cur}"))
        ;;
    esac
}

_whisperctl_runbook_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server --dir)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    esac
}

_whisperctl_runbook_show() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--server --dir)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion runbook show -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_runbook_validate() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options -1

    # Offer positional completions
    case "${positional_number}" in
    *)
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    esac
}

_whisperctl_runbook_plan() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server --dir --param)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --out)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--param')
        return
        ;;
    '--out')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion runbook plan -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_runbook_run() {
    repeating_flags=()
    non_repeating_flags=(--yes --version -h --help)
    repeating_options=(--server --dir --param)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --plan --from --only)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--dir')
        __whisperctl_add_completions -d
        return
        ;;
    '--param')
        return
        ;;
    '--plan')
        return
        ;;
    '--from')
        return
        ;;
    '--only')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion runbook run -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_runbook_resume() {
    repeating_flags=()
    non_repeating_flags=(--retry-step --skip-step --accept-changed --yes --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --reason)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--reason')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion runbook resume -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_runbook_runs() {
    # 'whisperctl runbook runs' alone runs 'list': complete its options.
    if __whisperctl_is_default_subcommand 'list show'; then
        _whisperctl_runbook_runs_list
        return
    fi
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show)
        # Offer subcommand argument completions
        "_whisperctl_runbook_runs_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show' -- "${cur}"))
        ;;
    esac
}

_whisperctl_runbook_runs_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac
}

_whisperctl_runbook_runs_show() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats)
    __whisperctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    1)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion runbook runs show -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_audit() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server --compose --k8s --allow-port)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --http-url --root --timeout)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--compose')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--k8s')
        __whisperctl_add_completions -d
        return
        ;;
    '--http-url')
        return
        ;;
    '--allow-port')
        return
        ;;
    '--root')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_whisperctl_audit-log() {
    repeating_flags=()
    non_repeating_flags=(--verify --json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --since --run)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--since')
        return
        ;;
    '--run')
        return
        ;;
    esac
}

_whisperctl_logs() {
    repeating_flags=()
    non_repeating_flags=(-f --follow --json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --since --level --grep -n --lines --timeout)
    __whisperctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--since')
        return
        ;;
    '--level')
        return
        ;;
    '--grep')
        return
        ;;
    '-n'|'--lines')
        return
        ;;
    '--timeout')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __whisperctl_add_completions -W "$(__whisperctl_custom_complete ---completion logs -- positional@0 "${COMP_CWORD}" "$(__whisperctl_cursor_index_in_current_word)")"
        return
        ;;
    esac
}

_whisperctl_bundle() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--server)
    non_repeating_options=(--config --redis --database-url --nats-monitor --haproxy-stats --duration --snapshots --lines --out --timeout)
    __whisperctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(yml|yaml)'
        return
        ;;
    '--redis')
        return
        ;;
    '--database-url')
        return
        ;;
    '--nats-monitor')
        return
        ;;
    '--haproxy-stats')
        return
        ;;
    '--server')
        return
        ;;
    '--duration')
        return
        ;;
    '--snapshots')
        return
        ;;
    '--lines')
        return
        ;;
    '--out')
        __whisperctl_add_completions -o plusdirs -fX '!*.@(gz)'
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_whisperctl_version() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options 0
}

_whisperctl_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __whisperctl_offer_flags_options -1
}

complete -F _whisperctl whisperctl
