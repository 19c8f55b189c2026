import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_INFLIGHT_PER_CONN, resolveBrokerOptions } from "./broker-options.js";
import { MAX_TASK_TABLE_CAPACITY } from "./task-table.js";

describe("resolveBrokerOptions", () => {
  it("takes maxInflightPerConn as given up to 2²⁴, and anything larger (Infinity included) as 2²⁴", () => {
    expect(resolveBrokerOptions({}).maxInflightPerConn).toBe(DEFAULT_MAX_INFLIGHT_PER_CONN);
    expect(resolveBrokerOptions({ maxInflightPerConn: 1 }).maxInflightPerConn).toBe(1);
    expect(resolveBrokerOptions({ maxInflightPerConn: MAX_TASK_TABLE_CAPACITY }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
    expect(resolveBrokerOptions({ maxInflightPerConn: MAX_TASK_TABLE_CAPACITY + 1 }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
    expect(resolveBrokerOptions({ maxInflightPerConn: Number.POSITIVE_INFINITY }).maxInflightPerConn).toBe(MAX_TASK_TABLE_CAPACITY);
  });
});
