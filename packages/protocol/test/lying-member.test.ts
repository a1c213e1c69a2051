import { describe, expect, it } from "vitest";
import { LIES, lyingMarket, runLyingMarket } from "../src/sim/lying-member.ts";
import { verifyCertificate } from "../src/wire/certificate.ts";

/**
 * One member of four lies while every message it signs passes every check (FAULT INJECTION through
 * the agent's misreport hook), on a simulated network of real agent machines. Slope lies and the
 * exit lie (an `exit` below the cap) leave x truthful, so the market must certify the honest equilibrium (the reference solver on the true
 * profiles) to 1e-6 within 50 rounds. An alternating x can move the equilibrium, but must not stop
 * the market from certifying something within 200 rounds.
 */
const { contract, profiles } = lyingMarket();

describe("a lying member", () => {
  for (const seed of [1, 2]) {
    it(`nobody lying (network seed ${seed}): the reference equilibrium in a handful of rounds`, () => {
      const honest = runLyingMarket(contract, profiles, null, seed);
      expect(honest.rounds).not.toBeNull();
      expect(honest.rounds).toBeLessThanOrEqual(8);
      expect(honest.error).toBeLessThan(1e-6);
      expect(honest.certificate?.commit.approximate).toBeUndefined();
    });

    for (const lie of LIES.filter((l) => l !== "alternating x"))
      it(`${lie} (network seed ${seed}): certified at the honest equilibrium within 50 rounds`, () => {
        const r = runLyingMarket(contract, profiles, lie, seed);
        expect(r.rounds, lie).not.toBeNull();
        expect(r.rounds).toBeLessThanOrEqual(50);
        expect(r.error).toBeLessThan(1e-6);
        expect(r.certificate?.commit.approximate).toBeUndefined();
        expect(verifyCertificate(r.certificate as NonNullable<typeof r.certificate>, contract)).toMatchObject(
          {
            ok: true,
          },
        );
      });

    it(`alternating x (network seed ${seed}): certified within 200 rounds, flagged why if approximate`, () => {
      const r = runLyingMarket(contract, profiles, "alternating x", seed);
      expect(r.rounds).not.toBeNull();
      expect(r.rounds).toBeLessThanOrEqual(200);
      const cert = r.certificate as NonNullable<typeof r.certificate>;
      expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true });
      if (cert.commit.approximate) expect(cert.commit.reason).toBe("too-slow");
    });
  }
});
