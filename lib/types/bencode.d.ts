declare module 'bencode' {
  /** Strings decode to Uint8Array unless an encoding is given; integers to number. */
  export type BencodeValue = number | Uint8Array | string | BencodeValue[] | { [key: string]: BencodeValue }
  export type EncodableValue =
    | number | bigint | boolean | string | Uint8Array | ArrayBufferView | null | undefined
    | EncodableValue[] | Set<EncodableValue> | Map<string | Uint8Array, EncodableValue>
    | { [key: string]: EncodableValue }
  interface Bencode {
    encode (data: EncodableValue): Uint8Array
    decode (data: Uint8Array, start?: number, end?: number, encoding?: string): BencodeValue
    byteLength (data: EncodableValue): number
    encodingLength (data: EncodableValue): number
  }
  const bencode: Bencode
  export default bencode
}
