package processor

import "context"

// Place returns the run and the stage of a record made in ctx that is not
// a span, such as a log record: those a span started from ctx, with no
// attributes of its own, would get. So the record lands in the run and
// stage of the span it was made in, by the rules spans follow: the
// context's run and stage (attributes.ContextWithRun, ContextWithStage),
// else those of the span in ctx (in wrapping mode, the values it gets at
// its end), else trusted baggage, else the run of WithDefaultRunID. Two
// differences: the function of WithRunIDFunc, which names the run of a
// starting span, is not called, and a record claims no stage, so the next
// span still opens the context's stage. run is "" when nothing places the
// record; the caller then files it under its trace id, if any.
//
// Place is safe for concurrent use. After Shutdown it returns "" and "".
func (p *Processor) Place(ctx context.Context) (run, stage string) {
	if p == nil || p.shut.Load() {
		return "", ""
	}
	in := inputsOf(ctx)
	if in.run != "" && in.stage != "" {
		return in.run, in.stage
	}
	if !p.mayResolve(in) {
		return "", ""
	}
	// A record that is no span belongs to the span in ctx, as a child
	// started there would: that span is its parent.
	r := p.resolveFor(in, nil, false, false, nil)
	return r.run, r.stage
}
