import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";

/** From `fuzz:markets --spread 3 --seed 20261203 --rounds 200` (2 resources, sample seed 22261209, index 78: stalled too-slow at residual 1.51e-10 after 47 rounds, before the grid bracket). */
export const twoResourceGrid: Scenario = scenarioSchema.parse({
  contract: {
    name: "property",
    resources: [
      { id: "r0", capacity: 1 },
      { id: "r1", capacity: 4.522771123361623 },
    ],
    fees: { perUnit: 1e-323, fixed: 0 },
    priceRule: { kind: "newton" },
    proximal: 0,
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200000,
    membership: { policy: "open" },
    quorum: 0.6666666666666666,
    minMembers: 1,
    timeouts: { roundMs: 4000, announceMs: 1000 },
    initialPrices: [0, 0],
  },
  agents: [
    {
      valuation: { kind: "log", alpha: 0.01248511687619707 },
      cost: { kind: "quadratic", beta: 4.243166374301919e-37, c: 0.0001627585120566244 },
      footprint: [1.3727867662329847, 0],
      id: "agent-0",
    },
    {
      valuation: { kind: "log", alpha: 3.5850280043533598 },
      cost: { kind: "linear", beta: 1.3411150836680106 },
      footprint: [0, 0.9439342489105449],
      id: "agent-1",
    },
    {
      valuation: { kind: "quadratic", a: 6.816616922801878, b: 1.3694783123017573 },
      cost: { kind: "quadratic", beta: 6.676872417641641e-105, c: 0.11926601301076771 },
      footprint: [0.0669126658527021, 0.34821829358370154],
      id: "agent-2",
    },
    {
      valuation: { kind: "power", w: 1.9529637468576746, theta: 1.4800554978529323 },
      cost: { kind: "quadratic", beta: 2.289023741198537e-32, c: 1.6404089506753259 },
      footprint: [0.35839071359804847, 0],
      id: "agent-3",
    },
    {
      valuation: { kind: "log", alpha: 13.077270244035928 },
      cost: { kind: "linear", beta: 3.998894109417779 },
      footprint: [0, 1.888380120955867],
      id: "agent-4",
    },
    {
      valuation: { kind: "power", w: 5.138796527122062, theta: 0.6737233275695707 },
      cost: { kind: "quadratic", beta: 6.167494503427312e-257, c: 0.4867359350700926 },
      footprint: [0.9829685548408794, 0.10183025247223648],
      id: "agent-5",
    },
    {
      valuation: { kind: "power", w: 4881.774270299271, theta: 0.37009463269608117 },
      cost: { kind: "linear", beta: 368.25729169627084 },
      footprint: [0.1734275031249715, 0.6078332089435117],
      id: "agent-6",
    },
    {
      valuation: { kind: "quadratic", a: 18.47101861131719, b: 1.18539954756336 },
      cost: { kind: "linear", beta: 2.499510947303879 },
      footprint: [0, 0.3874217128891824],
      id: "agent-7",
    },
    {
      valuation: { kind: "log", alpha: 11.514372951017545 },
      cost: { kind: "quadratic", beta: 6.647097866640611e-156, c: 0.8203523894786882 },
      footprint: [0.060963634487689405, -0.914101045486467],
      id: "agent-8",
    },
    {
      valuation: { kind: "quadratic", a: 3.00219312071443, b: 0.5511909862329933 },
      cost: { kind: "quadratic", beta: 1.0582392930869436e-298, c: 0.9172525669559127 },
      footprint: [-1318.5499731580642, 382.85610866953243],
      id: "agent-9",
    },
    {
      valuation: { kind: "log", alpha: 13.757553473512088 },
      cost: { kind: "quadratic", beta: 1.0616464429241529e-56, c: 0.25459046962929044 },
      footprint: [0, -0.7848166062537281],
      id: "agent-10",
    },
    {
      valuation: { kind: "log", alpha: 10.944156021411112 },
      cost: { kind: "linear", beta: 0.5761531943158765 },
      footprint: [0.29416040091755663, 0],
      id: "kink-0",
    },
    {
      valuation: { kind: "log", alpha: 11.33729713744645 },
      cost: { kind: "linear", beta: 1.9617332741258877 },
      footprint: [0.26600297770512943, 0],
      id: "kink-1",
    },
    {
      valuation: { kind: "log", alpha: 71.05455205828387 },
      cost: { kind: "linear", beta: 0.10000000000000024 },
      footprint: [0.05000000000000011, 0.5699787878804279],
      id: "kink-2",
    },
  ],
});

/** From `fuzz:markets --spread 3 --seed 20261203 --rounds 200` (3 resources, sample seed 23261212, index 904: stalled too-slow at residual 3.22e-10 after 50 rounds, before the grid bracket). */
export const threeResourceGrid: Scenario = scenarioSchema.parse({
  contract: {
    name: "property",
    resources: [
      { id: "r0", capacity: 5.919073212846536 },
      { id: "r1", capacity: 0.004938991111176389 },
      { id: "r2", capacity: 3.7651711462997097 },
    ],
    fees: { perUnit: 4.718573214505207e-46, fixed: 0 },
    priceRule: { kind: "newton" },
    proximal: 0,
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200000,
    membership: { policy: "open" },
    quorum: 0.6666666666666666,
    minMembers: 1,
    timeouts: { roundMs: 4000, announceMs: 1000 },
    initialPrices: [0, 0, 0],
  },
  agents: [
    {
      valuation: { kind: "log", alpha: 16.13269292266255 },
      cost: { kind: "linear", beta: 1.8166761429585512 },
      footprint: [0, 0.29773184708415934, 0],
      id: "agent-0",
    },
    {
      valuation: { kind: "quadratic", a: 9.293998538761452, b: 0.2044700588945964 },
      cost: { kind: "linear", beta: 3.8781298251725094 },
      footprint: [0.3292489694182626, 0, 0.7330413299676333],
      id: "agent-1",
    },
    {
      valuation: { kind: "quadratic", a: 8.695844673653644, b: 0.36439141296680055 },
      cost: { kind: "quadratic", beta: 8.393820415370598e-286, c: 0.18674896579221917 },
      footprint: [0.6527103431419001, 0, 0],
      id: "agent-2",
    },
    {
      valuation: { kind: "quadratic", a: 4.227934668226201, b: 0.3993091779859881 },
      cost: { kind: "quadratic", beta: 7.970004886362927e-277, c: 0.07622992707638049 },
      footprint: [0, 0, 1.544064701885327],
      id: "agent-3",
    },
    {
      valuation: { kind: "power", w: 1.5707392970311065, theta: 1.3561404425815553 },
      cost: { kind: "linear", beta: 0.9412971899650979 },
      footprint: [0, 0, 0.20571942640024712],
      id: "agent-4",
    },
    {
      valuation: { kind: "log", alpha: 13.012905677319699 },
      cost: { kind: "quadratic", beta: 1.109756701032435e-32, c: 0.7018575388763466 },
      footprint: [1.424008139464166, 0.5476937450018248, 1.9455908221429556],
      id: "agent-5",
    },
    {
      valuation: { kind: "log", alpha: 5.342102511061169 },
      cost: { kind: "quadratic", beta: 1.1230749282837008e-106, c: 1.0442392102376012 },
      footprint: [0.5207112788683829, 0, -0.5255897977653289],
      id: "agent-6",
    },
    {
      valuation: { kind: "log", alpha: 9.102176599952402 },
      cost: { kind: "quadratic", beta: 2.198966845922548e-254, c: 0.8235602276146536 },
      footprint: [0, -1429.6272440097412, 98.69123000916444],
      id: "agent-7",
    },
    {
      valuation: { kind: "log", alpha: 5.8876109813503525 },
      cost: { kind: "linear", beta: 0.6457356090176355 },
      footprint: [0.45259889122761177, 0, 0.6322242519647094],
      id: "kink-0",
    },
    {
      valuation: { kind: "log", alpha: 5.028399346582679 },
      cost: { kind: "linear", beta: 2.461293031450735 },
      footprint: [0, 1.273079819968356, 0.8908469958648269],
      id: "kink-1",
    },
  ],
});
