import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_INFLIGHT_PER_CONN, resolveAnetBrokerOptions } from "./broker-options.js";
import { MAX_TASK_TABLE_CAPACITY } from "./task-table.js";

describe("resolveAnetBrokerOptions", () => {
  it("takes maxInflightPerConn as given up to 2²⁴, and anything larger (Infinity included) as 2²⁴", () => {
    expect(resolveAnetBrokerOptions({}).maxInflightPerConn).toBe(DEFAULT_MAX_INFLIGHT_PER_CONN);
    expect(resolveAnetBrokerOptions({ maxInflightPerConn: 1 }).maxInflightPerConn).toBe(1);
    expect(resolveAnetBrokerOptions({ maxInflightPerConn: MAX_TASK_TABLE_CAPACITY }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
    expect(resolveAnetBrokerOptions({ maxInflightPerConn: MAX_TASK_TABLE_CAPACITY + 1 }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
    expect(resolveAnetBrokerOptions({ maxInflightPerConn: Number.POSITIVE_INFINITY }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
  });
});
