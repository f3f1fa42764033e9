// Packages without type declarations; their shapes are described where they are used.
declare module 'seek-bzip' {
  const Bunzip: unknown;
  export default Bunzip;
}
declare module 'libbzip2-wasm' {
  const factory: unknown;
  export default factory;
}
