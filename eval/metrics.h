/*
 * metrics.h - retrieval metrics of one ranked list against a query's
 * judgements (MAP, MRR@10, P@1, P@5, nDCG@10 with graded gains, R@100),
 * accumulated over queries and reported x100.
 */
#ifndef EVAL_METRICS_H
#define EVAL_METRICS_H

#include <stddef.h>

#include "data.h"

enum { M_MAP, M_MRR10, M_P1, M_P5, M_NDCG10, M_R100, M__COUNT };

typedef struct {
	double sum[M__COUNT];
	size_t n;           /* queries scored (those with at least one relevant doc) */
} ev_metrics;

/*
 * Score `ranked` (document indices, best first, self document already
 * removed, at most `nranked`) against q's judgements; queries without a
 * relevant document are skipped.  MAP and R@100 look at the first 100.
 */
void ev_metrics_add(ev_metrics *m, const ev_query *q, const size_t *ranked, size_t nranked);
/* Mean of metric `which` x100 (0 when nothing was scored). */
double ev_metrics_mean(const ev_metrics *m, int which);
const char *ev_metric_name(int which);

#endif
