// Package web serves the pages and the JSON API of "stagetrace serve"
// over a query.Reader: a runs list (filter, sort, paging) that shows new
// runs without a reload, a run page (the report's waterfall, stages,
// findings, tokens and cost by model, metric charts, alerts) and a span
// page; the API under /api/v1/ answers with the shapes of the command's
// --json output.
//
// Pages are server-rendered with html/template; the one script is
// embedded and served from the same origin, under a Content-Security-
// Policy that allows nothing else. A filter from the URL reaches the
// store only through the query package, which binds every value as a
// parameter.
package web
