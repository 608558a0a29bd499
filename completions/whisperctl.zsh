#compdef whisperctl

__whisperctl_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__whisperctl_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __whisperctl_complete "${completions[@]:0:-1}"
    fi
}

__whisperctl_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_whisperctl() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'status:Probe every component of the deployment at once.'
            'config:Show or check the deployment configuration.'
            'loadtest:Load a deployment through the real chat protocol and measure delivery.'
            'metrics:Parse a Prometheus /metrics exposition: from a URL, a file or standard input.'
            'dashboard:The live view: every server'\''s /metrics, HAProxy, Redis and NATS on one screen.'
            'top:The dashboard'\''s numbers as text: once for scripts, or refreshed plain lines.'
            'demo:A real whisper-server with simulated users, and the dashboard on it. Needs nothing else.'
            'migrate:Schema migrations of the abuse-report database: status, up, down, goto, force, create.'
            'backup:Back up the abuse-report database, the .env and the certificates; list, verify and prune backups.'
            'restore:Restore a backup into the database (or --target-db), all or nothing.'
            'lock:The deployment'\''s operations lock: who holds it, and breaking a dead holder'\''s.'
            'rollout:Update every whisper-server through HAProxy with no user noticing.'
            'scale:Grow or shrink the fleet: a server into or out of HAProxy at run time, the inventory, and the deployment files.'
            'diag:Look at each component, judge it against the operations guide, and say how to fix it.'
            'capacity:Size a deployment: the playbook'\''s formulas with this project'\''s measured figures.'
            'cert:HAProxy'\''s certificate: combine, check, renew without stopping HAProxy, self-signed for tests.'
            'runbook:Declarative procedures: list, show, validate, plan (the honest dry run), run, resume, runs.'
            'audit:Check the deployment against the security checklist: secrets, file modes, TLS, ports, Redis, PostgreSQL, Grafana, containers.'
            'audit-log:Read the audit log of every change, and verify its hash chain.'
            'logs:Every service'\''s log as one stream, in time order; -f follows.'
            'bundle:Collect a support bundle: status, diag, configuration, metrics, logs and more, secrets masked, in one .tar.gz.'
            'version:Print the version, the commit and the build date.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        status|config|loadtest|metrics|dashboard|top|demo|migrate|backup|restore|lock|rollout|scale|diag|capacity|cert|runbook|audit|audit-log|logs|bundle|version|help)
            "_whisperctl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*:component:{__whisperctl_custom_complete ---completion status -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--json[Print one JSON object (see docs/status-json.md).]'
        '--timeout[Time limit for each probe, e.g. 2s or 500ms.]:duration:'
        '--watch[Re-run every interval (default 2s) until Ctrl-C.]:duration:'
        '--insecure[Accept self-signed TLS certificates on HTTPS endpoints.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_config() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'show:Print the effective configuration, secrets redacted, with where each value came from.'
            'check:Validate the configuration: unknown keys, malformed URLs and addresses, missing files.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        show|check)
            "_whisperctl_config_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_config_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_config_check() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--offline[Judge the file only\: do not ask the servers and HAProxy who they are.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_loadtest() {
    local -i ret=1
    local -ar arg_specs=(
        '*--url[A WebSocket endpoint; repeat it to spread clients over several servers (partners then sit on different ones).]:ws\://host\:port/ws:'
        '--connections[Connections to open.]:connections:'
        '--chatting-pairs[Pairs of connections that chat; the rest stay idle.]:chatting-pairs:'
        '--rate[Messages per second across all chatting connections.]:rate:'
        '--duration[How long messages flow, e.g. 10s.]:duration:'
        '--ramp[Open the connections evenly over this long.]:duration:'
        '--threads[Event loop threads of the generator.]:threads:'
        '--json[Print one JSON object.]'
        '*--metrics[A server'\''s /metrics to read its figures from (repeat it; default\: the inventory'\''s servers, else each --url'\''s own). Never a proxy'\''s.]:http\://host\:port/metrics:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_metrics() {
    local -i ret=1
    local -ar arg_specs=(
        ':source:_files'
        '--match[Only families whose name matches this regular expression (whole name).]:regex:'
        '--cardinality[The N families with the most series (default 10), with their label names.]:N:'
        '--json[Print JSON\: {"families"\: \[{"name", "type", "help", "samples"\: \[...\]}\]}.]'
        '--timeout[Time limit for a URL.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_dashboard() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--interval[How often to scrape, e.g. 1s or 500ms.]:duration:'
        '--window[Rates and quantiles cover this much recent time.]:duration:'
        '--timeout[Time limit for each scrape.]:duration:'
        '--read-only[Disable drain and ready.]'
        '--emergency[Drain and ready even while another command holds the operations lock (a backup, a migration); audited as overriding it.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_top() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--once[Print one snapshot and exit.]'
        '--json[Print JSON (one object per snapshot).]'
        '--interval[Time between scrapes.]:duration:'
        '--window[Rates and quantiles cover this much recent time (without --once).]:duration:'
        '--timeout[Time limit for each scrape.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_demo() {
    local -i ret=1
    local -ar arg_specs=(
        '--no-tui[Print top snapshots instead of opening the dashboard.]'
        '--duration[Stop after this long, e.g. 30s (default\: until q or Ctrl-C).]:duration:'
        '--users[How many simulated users.]:n:'
        '--interval[Refresh interval.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'status:Applied and pending migrations, with when, how long and whether files changed.'
            'up:Apply pending migrations: all, or the next N.'
            'down:Revert the last N applied migrations (default 1).'
            'goto:Migrate up or down to version V (0: revert everything).'
            'force:Record the schema as exactly at version V and clean, after a human fixed a dirty state. Runs no migration SQL.'
            'create:Create the next numbered pair of migration files.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        status|up|down|goto|force|create)
            "_whisperctl_migrate_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_migrate_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate_up() {
    local -i ret=1
    local -ar arg_specs=(
        ':count:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--dry-run[Print the exact SQL, in order, and change nothing.]'
        '--no-wait[Fail at once when another run holds the migration or operations lock (default\: wait, saying who holds it).]'
        '--lock-timeout[SET lock_timeout for each migration (default\: migrations.lock_timeout, else 5s).]:duration:'
        '--retries[Attempts after the first when a lock times out or a deadlock aborts a migration.]:n:'
        '--yes[Do not ask for confirmation.]'
        '--backup-first[Take a verified backup first (see '\''whisperctl backup'\'').]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate_down() {
    local -i ret=1
    local -ar arg_specs=(
        ':count:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--dry-run[Print the exact SQL, in order, and change nothing.]'
        '--no-wait[Fail at once when another run holds the migration or operations lock (default\: wait, saying who holds it).]'
        '--lock-timeout[SET lock_timeout for each migration (default\: migrations.lock_timeout, else 5s).]:duration:'
        '--retries[Attempts after the first when a lock times out or a deadlock aborts a migration.]:n:'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate_goto() {
    local -i ret=1
    local -ar arg_specs=(
        ':version:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--dry-run[Print the exact SQL, in order, and change nothing.]'
        '--no-wait[Fail at once when another run holds the migration or operations lock (default\: wait, saying who holds it).]'
        '--lock-timeout[SET lock_timeout for each migration (default\: migrations.lock_timeout, else 5s).]:duration:'
        '--retries[Attempts after the first when a lock times out or a deadlock aborts a migration.]:n:'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate_force() {
    local -i ret=1
    local -ar arg_specs=(
        ':version:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--dry-run[Print the exact SQL, in order, and change nothing.]'
        '--no-wait[Fail at once when another run holds the migration or operations lock (default\: wait, saying who holds it).]'
        '--lock-timeout[SET lock_timeout for each migration (default\: migrations.lock_timeout, else 5s).]:duration:'
        '--retries[Attempts after the first when a lock times out or a deadlock aborts a migration.]:n:'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_migrate_create() {
    local -i ret=1
    local -ar arg_specs=(
        ':name:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The migrations directory (default\: migrations.dir, else migrations/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--no-transaction[Mark it to run outside a transaction (for CREATE INDEX CONCURRENTLY).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_backup() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Take a backup now (what '\''whisperctl backup'\'' does).'
            'list:Every backup, newest first.'
            'verify:Check a backup (default: the newest): checksums and pg_restore --list; --restore-test restores it into a scratch database.'
            'prune:Delete backups past the retention; the newest verified one is always kept.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|list|verify|prune)
            "_whisperctl_backup_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_backup_create() {
    local -i ret=1
    local -ar ___install_schedule=('cron' 'systemd')
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The backup directory (default\: backup.dir, else backups/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--quiet[Print nothing but errors (for cron).]'
        '--keep-days[Delete backups older than this many days (default\: backup.keep_days, else 30).]:n:'
        '--keep-last[Always keep the newest N.]:n:'
        '--install-schedule[Instead of backing up, write the daily backup and verify as a cron entry or a systemd timer.]:cron|systemd:{__whisperctl_complete "${___install_schedule[@]}"}'
        '--at[The schedule'\''s time of day, HH\:MM.]:time:'
        '--schedule-dir[Write the schedule here instead of /etc/cron.d or /etc/systemd/system.]:path:'
        '--dry-run[With --install-schedule\: print the files, write nothing.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_backup_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The backup directory (default\: backup.dir, else backups/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_backup_verify() {
    local -i ret=1
    local -ar arg_specs=(
        ':id:{__whisperctl_custom_complete ---completion backup verify -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The backup directory (default\: backup.dir, else backups/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--restore-test[Restore into a scratch database on the same server, compare every table'\''s rows with the manifest, drop it.]'
        '--quiet[Print nothing but errors.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_backup_prune() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The backup directory (default\: backup.dir, else backups/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--keep-days[Delete backups older than this many days (default\: backup.keep_days, else 30).]:n:'
        '--keep-last[Always keep the newest N.]:n:'
        '--dry-run[Say what would be deleted; delete nothing.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_restore() {
    local -i ret=1
    local -ar arg_specs=(
        ':id:{__whisperctl_custom_complete ---completion restore -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--dir[The backup directory (default\: backup.dir, else backups/ beside the inventory).]:path:_files -/'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--target-db[Restore into this database on the same server (created when missing).]:name:'
        '--with-config[Also restore the .env and the certificates to their paths.]'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_lock() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'status:Who holds the operations lock. Exit 0 free, 1 held.'
            'break:Remove the lock of a holder whose heartbeat stopped (a crashed or hung command).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        status|break)
            "_whisperctl_lock_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_lock_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_lock_break() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--yes[Do not ask for confirmation.]'
        '--force[Break it even though the holder'\''s heartbeat is recent.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_rollout() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'run:Roll every server (what '\''whisperctl rollout'\'' does).'
            'status:The running or last rollout, server by server. Exit 0 completed, 1 stopped or running, 2 unsafe.'
            'history:Past rollouts, from the audit log.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        run|status|history)
            "_whisperctl_rollout_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_rollout_run() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--only[Only these servers (inventory names), in inventory order.]:name:{__whisperctl_custom_complete ---completion rollout run -- --only "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--max-unavailable[How many servers are out at once.]:max-unavailable:'
        '--start-with-unhealthy[Update servers that are not serving first, instead of refusing.]'
        '--drain-timeout[How long a server may take to lose its clients and exit (then it is stopped by force).]:drain-timeout:'
        '--ready-timeout[How long the new version may take to be ready and UP in HAProxy.]:ready-timeout:'
        '--expect-version[The version each updated server must report in /health.]:expect-version:'
        '--soak[How long each updated server is watched before the next one.]:soak:'
        '--no-soak[Skip the soak (a fleet without traffic, or a test).]'
        '--soak-idle-ok[Accept a soak that saw no traffic instead of stopping (a fleet without users).]'
        '--max-p99[Delivery p99 bound during the soak.]:max-p99:'
        '--max-error-rate[Rejected connections and lost messages bound during the soak, as a fraction.]:max-error-rate:'
        '--auto-rollback[After a failed gate, roll back the servers already updated (restart.rollback).]'
        '--dry-run[Run the preflight and print the plan; change nothing.]'
        '--json[One JSON object per event, one per line.]'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_rollout_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_rollout_history() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--last[How many, newest last.]:last:'
        '--json[Print JSON lines.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_scale() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Add a running server to HAProxy'\''s backend and the inventory.'
            'remove:Drain a server, then take it out of HAProxy'\''s backend and the inventory.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|remove)
            "_whisperctl_scale_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_scale_add() {
    local -i ret=1
    local -ar arg_specs=(
        ':name:'
        '--url[Its base URL, http\://HOST\:PORT (HAProxy sends to HOST\:PORT).]:url:'
        '--ready-timeout[How long to wait for its /ready to answer 200.]:duration:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--write[Also write the changes to haproxy.config, prometheus.config and the Compose file (default\: show them as a diff).]'
        '--dry-run[Show the plan and change nothing.]'
        '--yes[Do not ask for confirmation.]'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_scale_remove() {
    local -i ret=1
    local -ar arg_specs=(
        ':name:{__whisperctl_custom_complete ---completion scale remove -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--drain-timeout[How long its users have to leave before it stops short (it stays in DRAIN).]:duration:'
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--write[Also write the changes to haproxy.config, prometheus.config and the Compose file (default\: show them as a diff).]'
        '--dry-run[Show the plan and change nothing.]'
        '--yes[Do not ask for confirmation.]'
        '--json[Print JSON.]'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_diag() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*:component:{__whisperctl_custom_complete ---completion diag -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--json[Print one JSON object.]'
        '--timeout[Time limit for each request.]:duration:'
        '--interval[Between the two /metrics samples of each server.]:duration:'
        '--tier[The tier to judge against\: 10k, 100k, 500k or 1m (default\: from the servers'\'' MAX_CONNECTIONS, else 100k).]:tier:'
        '--root[Read /proc and /sys below this directory instead of /.]:dir:'
        '--write-sysctl[Write a sysctl.d file with the tier'\''s kernel values; change nothing else.]:file:'
        '--rtt[nats\: also a publish/subscribe round trip through the server (nats.url).]'
        '--apply[With --write-sysctl\: load it with sysctl -p after confirmation.]'
        '--yes[Do not ask for confirmation.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_capacity() {
    local -i ret=1
    local -ar arg_specs=(
        '--connections[Concurrent connections to plan for.]:connections:'
        '--active-ratio[The share of connections in a chat.]:active-ratio:'
        '--msg-rate[Chat messages per second (default\: each chatting user sends one every 10 s).]:msg-rate:'
        '--per-instance[Connections one whisper-server should hold.]:per-instance:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_cert() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'combine:Write HAProxy'\''s PEM: the leaf, its intermediates in issuing order, then the key, each link checked.'
            'check:Describe and judge certificates: the inventory'\''s, given files, or what an endpoint presents.'
            'renew:Renew with certbot without stopping HAProxy, then validate and swap the PEM in, hitless.'
            'self-signed:A key, a self-signed certificate and the combined PEM, for testing.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        combine|check|renew|self-signed)
            "_whisperctl_cert_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_cert_combine() {
    local -i ret=1
    local -ar arg_specs=(
        '*--cert[A PEM with the certificate and its chain; repeat for several files.]:file:'
        '--key[The private key (PEM).]:file:'
        '--out[Where to write the combined PEM.]:file:'
        '--key-passphrase-file[The passphrase of an encrypted key, in a file.]:file:'
        '--allow-expired[Combine an expired certificate anyway.]'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_cert_check() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*:file:'
        '--connect[Read the chain a TLS server presents.]:host\:port:'
        '--servername[SNI for --connect (default\: the host).]:name:'
        '--host[A host name the certificate must cover.]:name:'
        '--warn-days:warn-days:'
        '--critical-days:critical-days:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_cert_renew() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:'
        '--wait[Wait this long for the operations lock when another command holds it (default\: fail at once).]:duration:'
        '*--domain[The certificate'\''s names (the first names it).]:name:'
        '--certbot-dir[certbot'\''s --config-dir (work and logs below it).]:dir:'
        '--webroot[HTTP-01 through a webroot directory.]:dir:'
        '--http-01-port[HTTP-01 through certbot'\''s standalone server on this loopback port.]:port:'
        '--server[An ACME directory URL for certbot (e.g. a staging or test CA).]:url:'
        '--email[The account'\''s e-mail for a first certificate.]:email:'
        '--force[Renew even when certbot would say it is not due.]'
        '--pem[HAProxy'\''s PEM (default\: the inventory'\''s first cert).]:file:'
        '--method[How HAProxy takes it\: runtime-api, systemd or command (default\: runtime-api when configured, else systemd).]:method:'
        '--reload-command[With --method command.]:reload-command:'
        '*--verify[A TLS bind that must present the new certificate after the swap.]:host\:port:'
        '--install-schedule[Instead of renewing, write the twice-daily renewal as a cron entry or a systemd timer.]:cron|systemd:'
        '--schedule-dir[Write the schedule here instead of /etc/cron.d or /etc/systemd/system.]:dir:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_cert_self-signed() {
    local -i ret=1
    local -ar arg_specs=(
        '--cn[The common name (also a SAN).]:cn:'
        '*--san[More names (DNS names or IP addresses).]:san:'
        '--days[Days of validity.]:days:'
        '--out[The directory for key.pem, cert.pem and combined.pem.]:dir:'
        '--key-type[ec (P-256) or rsa (2048).]:key-type:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:The runbooks found, with their descriptions.'
            'show:A runbook'\''s parameters and steps.'
            'validate:Checks runbook files: every problem at file:line:column, all at once. Exit 0 valid, 2 problems.'
            'plan:The honest dry run: each step'\''s effect class and exact effect; reads run now, changes never.'
            'run:Runs a runbook step by step, recording each step; Ctrl-C stops after the current step.'
            'resume:Continues a run that stopped: what succeeded is not redone; a step in doubt is checked first, never repeated blindly.'
            'runs:Run history; '\''runs show ID'\'' for one run'\''s timeline, outputs, approvals and resumes.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|validate|plan|run|resume|runs)
            "_whisperctl_runbook_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_runbook_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*--dir[Another directory of runbooks; repeat it.]:path:_files -/'
        '--json[JSON output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*--dir[Another directory of runbooks; repeat it.]:path:_files -/'
        ':runbook:{__whisperctl_custom_complete ---completion runbook show -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_validate() {
    local -i ret=1
    local -ar arg_specs=(
        '*:files:_files -g '\''*.yml *.yaml'\'''
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_plan() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*--dir[Another directory of runbooks; repeat it.]:path:_files -/'
        ':runbook:{__whisperctl_custom_complete ---completion runbook plan -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '*--param[A parameter as NAME=VALUE; repeat it.]:name=value:'
        '--out[Save the plan (for '\''runbook run --plan'\'').]:file:'
        '--json[JSON output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_run() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*--dir[Another directory of runbooks; repeat it.]:path:_files -/'
        ':runbook:{__whisperctl_custom_complete ---completion runbook run -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '*--param[A parameter as NAME=VALUE; repeat it.]:name=value:'
        '--plan[A plan saved by '\''runbook plan --out'\''\: refused when anything it was made from moved.]:file:'
        '--from[Start at this step.]:step:'
        '--only[Run only this step.]:step:'
        '--yes[Confirm the run, and answer the confirm steps marked skippable.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_resume() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        ':id:{__whisperctl_custom_complete ---completion runbook resume -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--retry-step[Run the step that stopped the run again.]'
        '--skip-step[Skip the step that stopped the run (with --reason).]'
        '--reason[Why the step is skipped (recorded).]:reason:'
        '--accept-changed[Resume with the runbook as it is now, though its steps changed since the run started.]'
        '--yes[Confirm the resume, and answer the confirm steps marked skippable.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_runs() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:Every run, newest first.'
            'show:One run: each step'\''s timeline and outcome, approvals, resumes.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show)
            "_whisperctl_runbook_runs_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_runbook_runs_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[JSON output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_runbook_runs_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        ':id:{__whisperctl_custom_complete ---completion runbook runs show -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--json[JSON output (the record as stored).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_audit() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*--compose[A Compose file to audit; repeat it (default\: those the servers'\'' restart blocks name).]:file:_files -g '\''*.yml *.yaml'\'''
        '*--k8s[A directory of Kubernetes manifests to audit; repeat it.]:dir:_files -/'
        '--http-url[Where plain HTTP is answered (default\: port 80 of haproxy.frontend'\''s host).]:url:'
        '*--allow-port[A port meant to listen beyond loopback, besides 22, 80 and 443; repeat it.]:port:'
        '--root[Read /proc below this directory instead of /.]:dir:'
        '--timeout[Time limit for each probe.]:duration:'
        '--json[Print one JSON object.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_audit-log() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--since[Only lines since then\: an ISO 8601 time or a duration ago (24h, 30m).]:time:'
        '--run[Only the lines of one runbook run.]:run-id:'
        '--verify[Verify the hash chain of the whole log (filters do not apply).]'
        '--json[Print the lines as JSON (with --verify, one JSON object).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_logs() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*:service:{__whisperctl_custom_complete ---completion logs -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '(-f --follow)'{-f,--follow}'[Keep reading new lines as they are written.]'
        '--since[Only lines from this long ago (10m, 2h) or this time (RFC 3339) on.]:time:'
        '--level[Only this severity and worse\: trace, debug, info, notice, warning, error, critical.]:level:'
        '--grep[Only lines containing this text (any case).]:text:'
        '(-n --lines)'{-n,--lines}'[The last lines of each log to start with.]:n:'
        '--json[One JSON object per line\: a service'\''s own JSON line as it is, with "service" added; others normalised.]'
        '--timeout[Time limit for each request (the Docker Engine API).]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_bundle() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--duration[Over how long the servers'\'' /metrics are sampled.]:duration:'
        '--snapshots[How many /metrics samples, spread over --duration.]:n:'
        '--lines[The last lines of each service'\''s log.]:n:'
        '--out[The bundle file (default\: whisper-bundle-DEPLOYMENT-TIME.tar.gz here).]:file:_files -g '\''*.gz'\'''
        '--timeout[Time limit for each request.]:duration:'
        '--json[Print a JSON summary\: the file, its size and SHA-256, and what could not be collected.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_version() {
    local -i ret=1
    local -ar arg_specs=(
        '--json[Print one JSON object.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _whisperctl ]]; then
    _whisperctl "${@}"
else
    compdef _whisperctl whisperctl
fi
