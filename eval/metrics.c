/*
 * metrics.c - the usual trec_eval definitions: AP divides by every relevant
 * judged document (not only those retrieved), nDCG uses the judged grade
 * as gain with log2(rank + 1) discount, and P@k divides by k.
 */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"

static int judged_rel(const ev_query *q, size_t doc)
{
	size_t i;

	for (i = 0; i < q->njudged; i++)
		if (q->judged[i].doc == doc)
			return q->judged[i].rel;
	return 0;
}

static int cmp_int_desc(const void *a, const void *b)
{
	return *(const int *)b - *(const int *)a;
}

/* Ideal DCG@10: the judged grades sorted high to low. */
static double ideal_dcg10(const ev_query *q)
{
	int *g = malloc((q->njudged + 1) * sizeof(*g));
	double dcg = 0;
	size_t i;

	if (!g)
		abort();
	for (i = 0; i < q->njudged; i++)
		g[i] = q->judged[i].rel;
	qsort(g, q->njudged, sizeof(*g), cmp_int_desc);
	for (i = 0; i < q->njudged && i < 10; i++)
		if (g[i] > 0)
			dcg += g[i] / log2((double)i + 2);
	free(g);
	return dcg;
}

void ev_metrics_add(ev_metrics *m, const ev_query *q, const size_t *ranked, size_t nranked)
{
	double ap = 0, dcg = 0, rr = 0, idcg;
	size_t i, hits = 0, p1 = 0, p5 = 0;
	int rel;

	if (!q->nrelevant)
		return;
	for (i = 0; i < nranked && i < 100; i++) {
		rel = judged_rel(q, ranked[i]);
		if (rel <= 0)
			continue;
		hits++;
		ap += (double)hits / (double)(i + 1);
		if (i < 10) {
			dcg += rel / log2((double)i + 2);
			if (rr == 0)
				rr = 1.0 / (double)(i + 1);
		}
		p1 += i < 1;
		p5 += i < 5;
	}
	idcg = ideal_dcg10(q);
	m->sum[M_MAP] += ap / (double)q->nrelevant;
	m->sum[M_MRR10] += rr;
	m->sum[M_P1] += (double)p1;
	m->sum[M_P5] += (double)p5 / 5.0;
	m->sum[M_NDCG10] += idcg > 0 ? dcg / idcg : 0;
	m->sum[M_R100] += (double)hits / (double)q->nrelevant;
	m->n++;
}

double ev_metrics_mean(const ev_metrics *m, int which)
{
	return m->n ? 100.0 * m->sum[which] / (double)m->n : 0;
}

const char *ev_metric_name(int which)
{
	static const char *names[M__COUNT] = { "MAP", "MRR@10", "P@1", "P@5", "nDCG@10", "R@100" };

	return names[which];
}
