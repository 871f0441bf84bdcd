# scripts/wait-for.sh: sourced by the integration checks.
# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# fails (status 1) when SECONDS pass first.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    while ! "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}
