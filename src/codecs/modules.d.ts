// Packages without type declarations; their shapes are described where they are used.
declare module 'seek-bzip' {
  const Bunzip: unknown;
  export default Bunzip;
}
declare module 'libbzip2-wasm' {
  const factory: unknown;
  export default factory;
}
declare module 'unbzip2-stream/lib/bzip2.js' {
  const bzip2: unknown;
  export default bzip2;
}
