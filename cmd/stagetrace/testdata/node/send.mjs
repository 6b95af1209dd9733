// A chatbot turn recorded with the OpenTelemetry JS SDK and nothing of
// stagetrace: the run named by run.id on the root span, the model call
// described by the GenAI conventions. The OTLP/protobuf exporter reads
// OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_EXPORTER_OTLP_HEADERS) as any
// service's would. Usage: node send.mjs RUN_ID
import { context, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";

// Children find their parent through the active context, as in a
// service that registered the SDK.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const runId = process.argv[2] ?? "node-run";
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "node-chatbot" }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
const tracer = provider.getTracer("node-app");

tracer.startActiveSpan("chat turn", { attributes: { "run.id": runId } }, (root) => {
  tracer.startActiveSpan("retrieve", { attributes: { "run.stage": "retrieval" } }, (s) => s.end());
  tracer.startActiveSpan("chat gpt-4o", {
    kind: SpanKind.CLIENT,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.usage.input_tokens": 812,
      "gen_ai.usage.output_tokens": 95,
    },
  }, (s) => s.end());
  root.end();
});

await provider.forceFlush();
await provider.shutdown();
console.log("flushed " + runId);
