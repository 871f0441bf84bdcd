/*
 * reports/report.c: one report directory per run: the traced re-run, then
 * the model, plots, Perfetto export, JSON summary and index.html.
 */
#include "report.h"

#include "../sim/trace.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "perfetto.h"
#include "report_html.h"
#include "report_model.h"
#include "report_plot.h"
#include "report_replay.h"
#include "summary.h"

cs_time report_sample_interval(const struct scenario *sc)
{
    cs_time every = sc->limits.duration / 400;
    return every < CS_MSEC(1) ? CS_MSEC(1) : every;
}

int report_make_dirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int report_traced_run(const struct scenario *sc, uint64_t seed, const char *trace_path,
                      cs_time sample_every, bool verbose, struct run_result *res)
{
    FILE *f = NULL;
    if (trace_path) {
        f = fopen(trace_path, "w");
        if (!f)
            return -1;
        char file[2 * sizeof sc->path + 16], name[2 * sizeof sc->name + 16];
        sim_json_escape(sc->path, file, sizeof file); /* a path may hold any byte */
        sim_json_escape(sc->name, name, sizeof name); /* so may a name taken from it */
        fprintf(f, "{\"t\":0,\"node\":\"-\",\"kind\":\"run\",\"format\":2,\"scenario\":\"%s\","
                   "\"file\":\"%s\",\"seed\":%llu}\n",
                name, file, (unsigned long long)seed);
    }
    struct run_options opt = {.seed = seed, .trace_file = f, .trace_hash = true, .verbose = verbose,
                              .sample_every = sample_every};
    int rc = sim_run_scenario(sc, &opt, res);
    if (f) {
        if (rc == 0)
            fprintf(f, "{\"t\":%lld,\"node\":\"-\",\"kind\":\"end\",\"events\":%llu,\"lines\":%llu,"
                       "\"hash\":\"%016llx\"}\n",
                    (long long)res->end_time, (unsigned long long)res->events,
                    (unsigned long long)res->trace_lines, (unsigned long long)res->trace_hash);
        if (fclose(f) != 0 && rc == 0) {
            run_result_free(res);
            rc = -1;
        }
    }
    return rc;
}

static int write_page(const char *dir, const struct rep_page *page)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    rep_html_write(f, page);
    return fclose(f);
}

/* Everything after the traced run: model, plots, exports, page. */
int report_from_trace(const char *dir, const struct scenario *sc, const struct run_result *res,
                      const char *replay, const char *trace, char *err, size_t err_size)
{
    struct rep_model model;
    if (rep_model_load(trace, &model, err, err_size) != 0)
        return -1;
    struct rep_plots plots;
    char path[1200];
    int rc = rep_plots_draw(&model, dir, &plots);
    snprintf(path, sizeof path, "%s/trace.perfetto.json", dir);
    char perr[512] = "";
    bool perfetto = perfetto_export(trace, path, perr, sizeof perr) == 0;
    json_t *summary = summary_run_json(sc, res, replay);
    char trace_replay[2048];
    rep_trace_replay(replay, trace, trace_replay, sizeof trace_replay);
    json_object_set_new(summary, "replay_trace", json_string(trace_replay));
    snprintf(path, sizeof path, "%s/summary.json", dir);
    rc |= summary_write(path, summary);
    json_decref(summary);
    struct rep_page page = {.sc = sc, .res = res, .replay = replay, .trace = trace, .model = &model,
                            .plots = &plots,
                            .files = {"summary.json", "trace.jsonl", "plots.gp",
                                      perfetto ? "trace.perfetto.json" : NULL}};
    rc |= write_page(dir, &page);
    rep_model_free(&model);
    if (rc != 0)
        snprintf(err, err_size, "%s: cannot write the report files", dir);
    else if (!perfetto)
        snprintf(err, err_size, "%s: Perfetto export failed: %s", dir, perr);
    return rc != 0 || !perfetto ? -1 : 0;
}

int report_run(const char *dir, const struct scenario *sc, uint64_t seed, const char *replay,
               char *err, size_t err_size)
{
    if (report_make_dirs(dir) != 0) {
        snprintf(err, err_size, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    char trace[1200];
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    struct run_result res;
    if (report_traced_run(sc, seed, trace, report_sample_interval(sc), false, &res) != 0) {
        snprintf(err, err_size, "%s: cannot run %s seed %llu with a trace", dir, sc->path,
                 (unsigned long long)seed);
        return -1;
    }
    int rc = report_from_trace(dir, sc, &res, replay, trace, err, err_size);
    run_result_free(&res);
    return rc;
}
