// Package dataset builds evaluation datasets from traces: one row per
// span that carries an input or an output, with the fields of the
// origin's evaluation record (EvalTrace) — session, step, input, output,
// expected output — and writes them as JSON lines, CSV or Parquet.
//
// Where each field comes from, first that applies:
//
//   - session: the gen_ai.conversation.id attribute, else OpenInference's
//     session.id, else the span's run;
//   - step: the span's stage, else its name;
//   - input: the keys of Options.Input, else gen_ai.input.messages (the
//     GenAI conventions' opt-in content capture), else OpenInference's
//     input.value;
//   - output: the keys of Options.Output, else gen_ai.output.messages,
//     else output.value;
//   - expected output: the keys of Options.Expected, else the finding
//     expected_output, else the attribute expected_output.
//
// A key is an attribute key, attr.<key>, or finding.<name> for a finding.
// A value that is not a string is written as its JSON form.
//
// Content attributes are large and often sensitive: Options.Redactor masks
// the spans before any field is read (the command redacts with every
// built-in pattern unless told not to), and Options.MaxFieldBytes cuts
// each field, at a character boundary, marking the cut.
package dataset
