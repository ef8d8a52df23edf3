declare module 'bencode' {
  /** Strings decode to Uint8Array unless an encoding is given; integers to number. */
  export type BencodeValue = number | Uint8Array | string | BencodeValue[] | { [key: string]: BencodeValue }
  export type EncodableValue =
    | number | bigint | boolean | string | Uint8Array | ArrayBufferView | null | undefined
    | EncodableValue[] | Set<EncodableValue> | Map<string | Uint8Array, EncodableValue>
    | { [key: string]: EncodableValue }
  function encode (data: EncodableValue): Uint8Array
  function decode (data: Uint8Array, start?: number, end?: number, encoding?: string): BencodeValue
  function byteLength (data: EncodableValue): number
  const bencode: { encode: typeof encode, decode: typeof decode, byteLength: typeof byteLength, encodingLength: typeof byteLength }
  export default bencode
}
