import { describe, expect, it } from "vitest";
import { scrubStream, scrubText } from "../../src/egress/scrub";

async function through(chunks: string[], pairs: [string, string][]): Promise<string> {
  const encoder = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(source.pipeThrough(scrubStream(pairs))).text();
}

describe("scrubbing secret values out of responses", () => {
  const pairs: [string, string][] = [["SECRET123", "sbx_placeholder_x"]];

  it("replaces every occurrence, including ones split across chunks", async () => {
    expect(await through(["a SECRET123 b ", "SEC", "RET", "123 c SECRET1", "23"], pairs)).toBe(
      "a sbx_placeholder_x b sbx_placeholder_x c sbx_placeholder_x",
    );
  });

  it("one byte at a time", async () => {
    const text = "xxSECRET123yySECRET123";
    expect(await through([...text], pairs)).toBe("xxsbx_placeholder_xyysbx_placeholder_x");
  });

  it("leaves near misses and other text alone", async () => {
    expect(await through(["SECRET12", "4 SECRET", "SECRET123"], pairs)).toBe("SECRET124 SECRETsbx_placeholder_x");
    expect(await through(["plain ", "text"], pairs)).toBe("plain text");
  });

  it("scrubs strings (headers, error messages)", () => {
    expect(scrubText("Bearer SECRET123, again SECRET123", pairs)).toBe("Bearer sbx_placeholder_x, again sbx_placeholder_x");
  });
});
