/** Customer-lifetime-value models: BG/NBD purchase counts, Gamma-Gamma spend, CLV predictions. */
export * from './summary.ts';
export * from './bgnbd.ts';
export * from './gammagamma.ts';
export * from './predict.ts';
export * from './simulate.ts';
