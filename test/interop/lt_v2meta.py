"""libtorrent's view of v2 and hybrid metainfo, as one JSON line, for libtorrent-v2-meta.test.ts.

  create SRC OUT.torrent v2|hybrid PIECE_LENGTH   makes a torrent of SRC with libtorrent
  info TORRENT                                    loads a torrent with libtorrent
"""
import json
import os
import sys

import libtorrent as lt


def describe(ti):
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        root = fs.root(i)
        files.append({
            'path': fs.file_path(i),
            'size': fs.file_size(i),
            'offset': fs.file_offset(i),
            'root': '' if root.is_all_zeros() else root.to_bytes().hex(),
        })
    ih = ti.info_hashes()
    return {
        'v1': ih.v1.to_bytes().hex() if ih.has_v1() else '',
        'v2': ih.v2.to_bytes().hex() if ih.has_v2() else '',
        'name': ti.name(),
        'pieceLength': ti.piece_length(),
        'numPieces': ti.num_pieces(),
        'files': files,
    }


def main():
    cmd = sys.argv[1]
    if cmd == 'create':
        src, out, version, piece_length = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        fs = lt.file_storage()
        lt.add_files(fs, src)
        flags = lt.create_torrent.v2_only if version == 'v2' else 0
        ct = lt.create_torrent(fs, piece_length, flags=flags)
        lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(src)))
        with open(out, 'wb') as f:
            f.write(lt.bencode(ct.generate()))
        print(json.dumps(describe(lt.torrent_info(out))))
    elif cmd == 'info':
        print(json.dumps(describe(lt.torrent_info(sys.argv[2]))))
    else:
        raise SystemExit('unknown command ' + cmd)


main()
