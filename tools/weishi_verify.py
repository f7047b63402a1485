#!/usr/bin/env python3
"""Check Weishi's public transparency log yourself, without trusting the site that runs it.

One file: Python 3.12 or later and the ``cryptography`` package (``pip install cryptography``).
It follows docs/transparency-log.md of the Weishi repository (RFC 9162 Merkle trees, C2SP
signed notes, checkpoints, cosignatures and tiles) and imports nothing of Weishi.

    python3 weishi_verify.py https://weishi.example.org --pdf 决定公示.pdf
    python3 weishi_verify.py https://weishi.example.org --since saved-checkpoint.txt
    python3 weishi_verify.py https://weishi.example.org --audit
    python3 weishi_verify.py https://weishi.example.org --checkpoint-out saved-checkpoint.txt

Give the keys you obtained from a second source with ``--log-key`` and ``--witness-key``;
without them the checker takes them from the site's ``/log/key`` and says so. Exit status: 0
when every check holds, 1 when a check fails (the log or the document is not what it should
be), 2 when the check could not be made (bad command line, file or network).

``--audit`` also recounts every closed ballot and recomputes every closed yearly round's funded
projects from the entries and the site's open data (``/open-data/*.json``), and compares them
with what was published (docs/transparency-log.md, "Audit").

The functions above ``main`` are pure and can be used on their own: ``leaf_hash``,
``node_hash``, ``root_from_leaves``, ``verify_inclusion``, ``verify_consistency``,
``inclusion_proof_from_tiles``, ``consistency_proof_from_tiles``, ``parse_checkpoint``,
``open_signed_note``, ``parse_verifier_key``, ``tile_path``, ``parse_entry_bundle``,
``ballot_tally``, ``ballot_list_sha256``, ``round_list_sha256``, ``fund_greedy``,
``fund_equal_shares``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import concurrent.futures
import contextlib
import datetime
import gc
import hashlib
import http.client
import json
import math
import os
import re
import socket
import ssl
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # the Merkle functions work without it; signatures need it (said in main)
    Ed25519PublicKey = None  # type: ignore[assignment,misc]

    class InvalidSignature(Exception):  # type: ignore[no-redef]
        """Never raised: without cryptography no signature is checked at all."""


VERSION = "1"

# --------------------------------------------------------------------------------------------
# Messages: every line the checker prints, in Chinese (the default) and English (--lang en).
# Chinese as a community office writes to residents: 您, full-width punctuation, the terms of
# the project's glossary (存证记录 for the log, 一条记录 for an entry, 哈希值 for a hash).
# --------------------------------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    # What was checked (stdout).
    "key_pinned": (
        "使用您提供的存证记录公钥：{name}（{key_id}）。",
        "Using the log key you gave: {name} ({key_id}).",
    ),
    "key_from_site": (
        "注意：您没有提供公钥，本次使用网站自己公布的公钥（{url}），"
        "这等于相信网站本身。请从街道公告栏等其他渠道取得公钥，"
        "用 --log-key 和 --witness-key 指定。",
        "Note: no key given, so this check uses the keys the site itself publishes ({url}): it "
        "trusts the site. Get the keys once from a second source (the district's notice board) "
        "and give them with --log-key and --witness-key.",
    ),
    "origin_other": (
        "注意：检查点上的名称是「{origin}」，与您输入的网址（应为「{expected}」）不同；"
        "如果您访问的是镜像站点，这是正常的。",
        "Note: the checkpoint names the log {origin!r}, not {expected!r} as your address would; "
        "that is expected if you are reading a mirror.",
    ),
    "checkpoint_ok": (
        "✓ 检查点签名有效：存证记录「{origin}」共有 {size} 条记录，根哈希值 {root}。",
        "✓ The checkpoint is validly signed: log {origin!r} holds {size} entries, root hash "
        "{root}.",
    ),
    "witness_ok": (
        "✓ 见证方「{name}」已签名确认这个检查点（{time}）。",
        "✓ Witness {name!r} cosigned this checkpoint ({time}).",
    ),
    "witness_absent": (
        "  见证方「{name}」没有签名确认这个检查点。",
        "  Witness {name!r} has not cosigned this checkpoint.",
    ),
    "witnesses_ok": (
        "✓ {count} 个见证方签名确认，您要求至少 {min} 个。",
        "✓ {count} witness(es) cosigned; you asked for at least {min}.",
    ),
    "no_witnesses": (
        "注意：没有检查见证方的签名（您没有用 --witness-key 提供见证方公钥）。"
        "只有见证方能证明网站没有给不同的人看不同的存证记录。",
        "Note: no witness checked (no --witness-key given). Only witnesses show that the site "
        "does not show different people different logs.",
    ),
    "pdf_hash": (
        "文件「{file}」的 SHA-256 哈希值：{sha}",
        "SHA-256 of {file!r}: {sha}",
    ),
    "pdf_entry": (
        "✓ 第 {index} 条记录登记了这份文件：",
        "✓ Entry {index} records this file:",
    ),
    "entry_action": ("  行为：{value}", "  action: {value}"),
    "entry_object": ("  对象：{value}", "  object: {value}"),
    "entry_time": ("  时间：{value}", "  time: {value}"),
    "entry_content": ("  内容哈希值（content_sha256）：{value}", "  content_sha256: {value}"),
    "pdf_included": (
        "✓ 包含证明成立：这条记录就在检查点签名的存证记录里（根哈希值一致）。",
        "✓ The inclusion proof holds: this entry is in the log the checkpoint signs (the root "
        "hashes match).",
    ),
    "since_same": (
        "✓ 存证记录与您保存的检查点完全相同（{size} 条记录），没有变化。",
        "✓ The log is exactly the one you saved ({size} entries): nothing changed.",
    ),
    "since_ok": (
        "✓ 一致性证明成立：现在的存证记录（{new} 条）是您保存时（{old} 条）的延续，"
        "之前的 {old} 条记录没有被修改、删除或调换，之后新增了 {added} 条。",
        "✓ The consistency proof holds: today's log ({new} entries) extends the one you saved "
        "({old} entries); none of those {old} entries was edited, removed or reordered, and "
        "{added} were added since.",
    ),
    "audit_entries_ok": (
        "✓ 已下载并核对全部 {size} 条记录（{bundles} 个记录包）：每个记录包的条数正确，"
        "每条记录的序号与位置一致，都是规范的 JSON 编码。",
        "✓ Downloaded and checked all {size} entries ({bundles} bundles): every bundle holds "
        "the right number of entries, every entry's index is its place, every entry is "
        "canonical JSON.",
    ),
    "audit_root_ok": (
        "✓ 用全部记录重新计算的根哈希值与检查点一致。",
        "✓ The root hash recomputed from every entry matches the checkpoint.",
    ),
    "recompute_ok": (
        "✓ 重新核算「{title}」：核对 {checked} 项，全部一致。",
        "✓ Recomputed {title!r}: {checked} checked, all agree.",
    ),
    "recompute_failed": (
        "重新核算「{title}」：核对 {checked} 项，其中 {failed} 项不一致。",
        "Recomputed {title!r}: {checked} checked, {failed} disagree.",
    ),
    "problems_more": (
        "  ……另有 {count} 处问题未列出。",
        "  … and {count} more problems not listed.",
    ),
    "saved": (
        "✓ 已把这个检查点保存到「{file}」。下次运行 --since {file}，即可检查存证记录是否被改写。",
        "✓ Saved this checkpoint to {file!r}. Next time, --since {file} checks that the log "
        "was not rewritten.",
    ),
    "all_ok": ("全部检查通过。", "Every check holds."),
    # Recomputations (audit): their titles and what they find.
    "recompute_object_histories": ("每个对象的记录顺序", "each object's history"),
    "histories_summary": (
        "  {objects} 个对象的记录历史已按序号重建。",
        "  The histories of {objects} objects were rebuilt in index order.",
    ),
    "history_gap": (
        "  对象「{object}」的第 {index} 条记录前缺了序号（上一条记录的序号是 {previous}）。",
        "  Entry {index} (object {object!r}) does not follow entry {previous}: indices are "
        "not contiguous.",
    ),
    # Recounting ballots and rounds (audit).
    "recompute_ballots": ("每次表决的计票结果", "each ballot's tally"),
    "recompute_rounds": ("每次年度集中表决的获资助项目", "each yearly round's funded projects"),
    "ballots_summary": (
        "  已重新计票 {closed} 次已结束的表决（其中无记名表决 {secret} 次）；"
        "{open} 次表决尚未结束。",
        "  {closed} closed ballots recounted ({secret} of them secret); {open} still open.",
    ),
    "rounds_summary": (
        "  已重新计算 {closed} 次已结束的年度集中表决；{open} 次尚未结束。",
        "  {closed} closed rounds recomputed; {open} still open.",
    ),
    "subject_ballot": ("表决 {id}", "Ballot {id}"),
    "subject_round": ("年度集中表决 {id}", "Round {id}"),
    "counts": (
        "赞成 {yes}、反对 {no}、弃权 {abstain}",
        "{yes} yes, {no} no, {abstain} abstain",
    ),
    "where_closing": ("第 {index} 条记录（结束时的记录）", "its closing entry ({index})"),
    "where_open_data": ("开放数据「{dataset}」", "the open data ({dataset})"),
    "differs": (
        "  {subject}：{where}中{what}为 {published}，重新核算应为 {recomputed}。",
        "  {subject}: {where} gives {published} for {what}; recomputed: {recomputed}.",
    ),
    "field_base": ("应参加表决的成员人数", "the members who may vote (base)"),
    "field_yes": ("赞成票数", "the yes votes"),
    "field_no": ("反对票数", "the no votes"),
    "field_abstain": ("弃权票数", "the abstentions"),
    "field_quorum": ("法定人数比例", "the quorum"),
    "field_threshold": ("通过门槛", "the threshold"),
    "field_participation": ("参加表决的人数", "the participation"),
    "field_cast": ("赞成与反对票合计", "the votes cast (yes and no)"),
    "field_quorum_needed": ("法定人数", "the members the quorum needs"),
    "field_valid": ("是否达到法定人数", "whether the quorum was met"),
    "field_yes_needed": ("通过所需的赞成票数", "the yes votes needed"),
    "field_passed": ("是否通过", "whether it passed"),
    "field_outcome": ("表决结果", "the outcome"),
    "field_secrecy": ("记名或无记名", "roll-call or secret"),
    "field_votes_sha256": ("投票清单的哈希值", "the SHA-256 of the votes"),
    "field_funded": ("获资助的项目（{rule}）", "the funded projects ({rule})"),
    "field_approvals": ("各项目的赞成票数", "each project's approvals"),
    "field_spent": ("资助金额", "the money spent"),
    "field_money": ("可分配资金", "the money to share"),
    "field_rule": ("资金分配规则", "the funding rule"),
    "field_completion": ("平等份额法的补足分配", "the completion of Equal Shares"),
    "field_slate": ("候选项目", "the slate"),
    "field_project": ("项目 {project} 的{what}", "{what} of project {project}"),
    "field_project_position": ("排序", "the place"),
    "field_project_cost": ("计入费用", "the cost"),
    "field_project_approvals": ("赞成票数", "the approvals"),
    "field_project_funded": ("是否获资助", "whether it is funded"),
    "rule_greedy": ("按赞成票多少依次资助", "greedy"),
    "rule_mes": ("平等份额法", "Equal Shares"),
    "rule_mes_add1": ("平等份额法，补足分配", "Equal Shares with Add1"),
    "never_opened": (
        "  {subject}：第 {index} 条记录记载了它，但存证记录里没有它开始的记录。",
        "  {subject}: entry {index} records it, but the log never opened it.",
    ),
    "twice": (
        "  {subject}：第 {index} 条记录（{action}）再次记载它开始。",
        "  {subject}: entry {index} ({action}) opens it a second time.",
    ),
    "after_close": (
        "  {subject}：第 {index} 条记录（{action}）记在它结束（第 {closed} 条记录）之后："
        "结束后不能再投票。",
        "  {subject}: entry {index} ({action}) comes after its close (entry {closed}): no vote "
        "may be recorded once it closed.",
    ),
    "malformed": (
        "  {subject}：第 {opened} 条或第 {closed} 条记录缺少重新核算所需的内容，或内容不合规定。",
        "  {subject}: entry {opened} or {closed} lacks what the recount needs, or holds "
        "something the rules do not allow.",
    ),
    "names_voter": (
        "  {subject}是无记名的，但第 {index} 条记录（{action}）写出了投票的成员或其选择。",
        "  {subject} is secret, but entry {index} ({action}) names the member or their choice.",
    ),
    "recount": (
        "  {subject}：按存证记录里每位成员的最后一票计得{got}，而第 {index} 条记录（结束时的记录）"
        "公布的是{want}。",
        "  {subject}: each member's last vote in the log counts {got}, but its closing entry "
        "({index}) publishes {want}.",
    ),
    "not_published": (
        "  {subject}：第 {index} 条记录记载它已结束，但开放数据「{dataset}」里没有它。",
        "  {subject}: the log closed it (entry {index}), but the open data ({dataset}) does not "
        "show it.",
    ),
    "list_sha256": (
        "  {subject}：开放数据「{dataset}」公布的投票清单的哈希值是 {got}，与第 {index} 条记录"
        "登记的 {want} 不同：清单被改动过。",
        "  {subject}: the list of votes in the open data ({dataset}) has SHA-256 {got}, not "
        "the {want} sealed in entry {index}: the list was altered.",
    ),
    "list_count": (
        "  {subject}：公布的投票清单加上举手表决计得{got}，而第 {index} 条记录公布的是{want}。",
        "  {subject}: the published list of votes with the show of hands counts {got}, but "
        "entry {index} publishes {want}.",
    ),
    "hands": (
        "  {subject}：公布的举手表决票数（{got}）不是存证记录里书记员最后登记的（{want}）。",
        "  {subject}: the published show of hands ({got}) is not the last one the clerk "
        "recorded in the log ({want}).",
    ),
    "list_voters": (
        "  {subject}：公布的投票清单有 {rows} 张网上投票，而存证记录里有 {voters} 位成员网上投票"
        "（其中至多 {recused} 位后来回避，投票作废）。",
        "  {subject}: the published list holds {rows} online votes, while the log records "
        "{voters} members voting online (at most {recused} of whom withdrew by recusal).",
    ),
    "list_votes": (
        "  {subject}：公布的投票清单计得{got}，与存证记录里每位成员的最后一票（{want}）不同。",
        "  {subject}: the published list counts {got}, not the members' last votes in the log "
        "({want}).",
    ),
    "list_voters_round": (
        "  {subject}：公布的选票清单有 {rows} 张选票，而存证记录里有 {voters} 位成员交了选票。",
        "  {subject}: the published list holds {rows} ballots, while the log records {voters} "
        "members handing one in.",
    ),
    "list_ballots": (
        "  {subject}：公布的选票清单与存证记录里每位成员最后交的选票不同。",
        "  {subject}: the published list of ballots is not the members' last ballots in the log.",
    ),
    "unknown_project": (
        "  {subject}：公布的一张选票赞成了「{approved}」，"
        "不是候选项目的编号（按升序、以逗号分隔）。",
        "  {subject}: a published ballot approves {approved!r}, which is not slate project "
        "numbers (ascending, comma-separated).",
    ),
    "partly": ("  {subject}：{why}", "  {subject}: {why}"),
    "why_before_receipts": (
        "在启用投票凭证之前结束，没有公布投票清单；只核对了存证记录和公布的结果。",
        "closed before receipts, so no list of votes is published; only its entries and its "
        "published result were compared.",
    ),
    "why_before_audit": (
        "它的记录早于重新核算所需的内容（核对码、费用、议事规则），只核对了能核对的部分。",
        "its entries predate what a recount needs (the voter's commitment, the costs, the "
        "rules); only what they hold was compared.",
    ),
    "why_no_ballots": (
        "没有公布选票清单，且无记名的选票只能从清单得知，无法重新计算获资助项目。",
        "no list of ballots is published and a secret round's ballots are known from it "
        "alone: its funded projects cannot be recomputed.",
    ),
    "unlogged": (
        "  开放数据「{dataset}」公布了 {count} 项结果（编号最小的是 {first}），但这份存证记录里"
        "没有它们的任何记录：可能是在这个检查点之后才决定的，请稍后再核对；如果一直如此，"
        "就是没有存证的结果。",
        "  The open data ({dataset}) publishes {count} result(s) (the first numbered {first}) of "
        "which this log holds no entry: decided after this checkpoint, perhaps; check again "
        "later. If they stay, they are results published without evidence.",
    ),
    "notes_more": ("  ……另有 {count} 项只能部分核算。", "  … and {count} more recomputed in part."),
    "open_data_malformed": (
        "网站的开放数据文件（{url}）不是带有 rows 列表的 JSON 文件，无法核对公布的结果。",
        "The site's open data file ({url}) is not JSON with a list of rows: the published "
        "results cannot be checked.",
    ),
    # Verification failed (exit 1).
    "note_malformed": (
        "检查点格式不对：{detail}",
        "The checkpoint is malformed: {detail}",
    ),
    "note_not_utf8": (
        "它不是 UTF-8 文本，或含有控制字符。",
        "it is not UTF-8 text, or holds control characters.",
    ),
    "note_no_signatures": (
        "签名前面应有一个空行，且每行签名都以换行结束。",
        "its signatures must follow an empty line and each end with a newline.",
    ),
    "note_bad_line": (
        "签名行「{line}」不是「— 名称 签名」的格式。",
        "the signature line {line!r} is not '— <name> <signature>'.",
    ),
    "note_too_many": ("签名超过 100 个。", "it carries more than 100 signatures."),
    "checkpoint_lines": (
        "检查点应有三行：名称、记录条数、根哈希值。",
        "a checkpoint's text is three lines: origin, tree size, root hash.",
    ),
    "checkpoint_size": (
        "第二行应是记录条数（十进制数字），实际是「{value}」。",
        "its second line should be the tree size in decimal, not {value!r}.",
    ),
    "checkpoint_root": (
        "第三行应是 32 字节根哈希值的 base64 编码，实际是「{value}」。",
        "its third line should be a 32-byte root hash in base64, not {value!r}.",
    ),
    "checkpoint_origin": ("第一行（名称）是空的。", "its first line (the origin) is empty."),
    "checkpoint_extension": ("有一行是空的。", "it has an empty line."),
    "bad_signature": (
        "「{name}」（{key_id}）的签名无效：检查点的内容被改动过，或者签名是伪造的。",
        "The signature of {name!r} ({key_id}) is invalid: the checkpoint was altered or the "
        "signature forged.",
    ),
    "no_log_signature": (
        "检查点上没有存证记录公钥 {keys} 的有效签名：要么网站换了密钥，要么检查点是伪造的。",
        "The checkpoint carries no signature by the log key {keys}: the site changed its key, "
        "or the checkpoint is forged.",
    ),
    "origin_not_key": (
        "检查点属于存证记录「{origin}」，而公钥属于「{name}」。",
        "The checkpoint is for the log {origin!r}, but the key is for {name!r}.",
    ),
    "witnesses_short": (
        "只有 {count} 个见证方签名确认了这个检查点，您要求至少 {min} 个："
        "见证方没有确认这份存证记录。",
        "Only {count} witness(es) cosigned this checkpoint and you asked for {min}: the "
        "witnesses have not vouched for this log.",
    ),
    "site_key_missing": (
        "网站的公钥列表（{url}）里没有存证记录的签名公钥。",
        "The site's key list ({url}) holds no log key.",
    ),
    "site_key_malformed": (
        "网站的公钥列表（{url}）中「{line}」的格式不对：{detail}",
        "In the site's key list ({url}), {line!r} is malformed: {detail}",
    ),
    "not_in_log": (
        "存证记录里没有登记这份文件（SHA-256 {sha}）：它不是网站公示过的版本，或者被改动过。",
        "The log records no file with SHA-256 {sha}: this is not a published version, or it "
        "was altered.",
    ),
    "lookup_malformed": (
        '网站的查询结果（{url}）不是「{{"index": 序号}}」的格式。',
        'The site\'s lookup answer ({url}) is not {{"index": <number>}}.',
    ),
    "entry_not_object": (
        "第 {index} 条记录不是 JSON 对象。",
        "Entry {index} is not a JSON object.",
    ),
    "entry_index": (
        "第 {index} 条记录的序号字段是 {claimed}，与它在存证记录中的位置不符。",
        "Entry {index} says its index is {claimed}: not its place in the log.",
    ),
    "entry_not_canonical": (
        "第 {index} 条记录不是规范的 JSON 编码（键的顺序、空格或转义与规定不同）。",
        "Entry {index} is not canonical JSON (key order, spaces or escapes differ).",
    ),
    "pdf_mismatch": (
        "第 {index} 条记录登记的 PDF 哈希值是 {recorded}，与您的文件（{sha}）不同。",
        "Entry {index} records the PDF hash {recorded}, not your file's ({sha}).",
    ),
    "pdf_not_recorded": (
        "第 {index} 条记录（{action}）没有登记 PDF 哈希值，不是您的文件（{sha}）的记录。",
        "Entry {index} ({action}) records no PDF hash: it is not the entry of your file ({sha}).",
    ),
    "proof_index": (
        "证明的参数不对：序号 {index} 不在 {size} 条记录的范围内。",
        "The proof's parameters are wrong: index {index} is not within a tree of {size}.",
    ),
    "proof_sizes": (
        "证明的参数不对：旧的条数 {old} 不能大于新的条数 {new}。",
        "The proof's parameters are wrong: the old size {old} exceeds the new size {new}.",
    ),
    "proof_hash_size": (
        "证明中有一个哈希值不是 32 字节。",
        "A hash in the proof is not 32 bytes long.",
    ),
    "proof_length": (
        "证明的长度不对：应有 {want} 个哈希值，实际有 {got} 个（证明被截断或多出了内容）。",
        "The proof has {got} hashes where it needs {want}: it is truncated or padded.",
    ),
    "inclusion_failed": (
        "包含证明不成立：第 {index} 条记录与检查点签名的根哈希值对不上，"
        "这条记录或存证记录被改动过。",
        "The inclusion proof fails: entry {index} does not lead to the signed root hash; the "
        "entry or the log was altered.",
    ),
    "consistency_failed": (
        "一致性证明不成立：现在的存证记录（{new} 条）不是您保存时（{old} 条）的延续，"
        "之前的记录被修改、删除或调换过。",
        "The consistency proof fails: today's log ({new} entries) does not extend the one "
        "you saved ({old} entries); earlier entries were edited, removed or reordered.",
    ),
    "log_shrank": (
        "存证记录变短了：您保存时有 {old} 条记录，现在只有 {new} 条。已写入的记录被删除了。",
        "The log shrank: you saved it at {old} entries and it now has {new}. Entries were removed.",
    ),
    "log_forked": (
        "同样是 {size} 条记录，根哈希值却与您保存的不同：存证记录的历史被改写过。",
        "At the same size, {size} entries, the root hash differs from the one you saved: the "
        "log's history was rewritten.",
    ),
    "since_other_log": (
        "您保存的检查点属于另一份存证记录（「{old}」），不是「{new}」。",
        "Your saved checkpoint is for another log ({old!r}), not {new!r}.",
    ),
    "tile_size": (
        "网站提供的哈希瓦片 {path} 有 {got} 字节，应为 {want} 字节（{count} 个哈希值）。",
        "The hash tile {path} has {got} bytes; it must have {want} ({count} hashes).",
    ),
    "bundle_count": (
        "记录包 {path} 里有 {got} 条记录，应为 {want} 条。",
        "The entry bundle {path} holds {got} entries; it must hold {want}.",
    ),
    "bundle_truncated": (
        "记录包 {path} 的数据不完整：第 {number} 条记录被截断了。",
        "The entry bundle {path} is cut short: its entry {number} is incomplete.",
    ),
    "audit_root": (
        "用全部 {size} 条记录重新计算出的根哈希值 {got} 与检查点签名的 {want} 不同："
        "有记录被改动、删除、调换或添加过。",
        "The root hash recomputed from all {size} entries, {got}, is not the signed {want}: "
        "entries were edited, removed, reordered or added.",
    ),
    "audit_failed": (
        "审计发现 {count} 处问题（见上）。",
        "The audit found {count} problem(s), listed above.",
    ),
    # Could not check (exit 2).
    "usage": (
        "命令行参数不对：{detail}。运行 python3 weishi_verify.py --help 查看用法。",
        "Wrong command line: {detail}. Run python3 weishi_verify.py --help for the usage.",
    ),
    "usage_mode": (
        "请选择一项检查：--pdf 文件、--since 检查点文件、--audit 或 --checkpoint-out 文件",
        "choose one check: --pdf FILE, --since CHECKPOINT_FILE, --audit or --checkpoint-out FILE",
    ),
    "usage_modes": (
        "--pdf、--since 和 --audit 一次只能选一项",
        "--pdf, --since and --audit cannot be combined",
    ),
    "usage_min_witnesses": (
        "--min-witnesses 是 {min}，但只有 {count} 个见证方公钥",
        "--min-witnesses is {min} but there are only {count} witness keys",
    ),
    "usage_lang": ("--lang 只能是 zh 或 en", "--lang is zh or en"),
    "url_bad": (
        "网址「{url}」不对：应以 http:// 或 https:// 开头，后面是网站地址。",
        "The address {url!r} is wrong: it must start with http:// or https:// and name a site.",
    ),
    "key_malformed": (
        "公钥「{key}」的格式不对：{detail}",
        "The key {key!r} is malformed: {detail}",
    ),
    "key_parts": (
        "应为「名称+8 位十六进制数字+base64」。",
        "it must be <name>+<8 hex digits>+<base64>.",
    ),
    "key_name": (
        "名称不能为空，也不能含空格或「+」。",
        "the name must be non-empty, no space or '+'.",
    ),
    "key_id_hex": ("密钥编号应为 8 位十六进制数字。", "the key id must be 8 hex digits."),
    "key_base64": (
        "公钥应为 33 字节（类型 + 32 字节 Ed25519 公钥）的 base64 编码。",
        "the key must be 33 bytes (type and 32-byte Ed25519 key) in base64.",
    ),
    "key_type": (
        "密钥类型 {kind} 不认识（存证记录公钥是 0x01，见证方公钥是 0x04）。",
        "unknown key type {kind} (a log key is 0x01, a witness key 0x04).",
    ),
    "key_id_mismatch": (
        "密钥编号 {key_id} 与公钥不符（应为 {want}）。",
        "the key id {key_id} does not match the key (it should be {want}).",
    ),
    "key_not_log": (
        "--log-key 应是存证记录的签名公钥（类型 0x01）。",
        "--log-key must be a log key (type 0x01).",
    ),
    "key_not_witness": (
        "--witness-key 应是见证方公钥（类型 0x04）。",
        "--witness-key must be a witness key (type 0x04).",
    ),
    "saved_malformed": (
        "您保存的文件「{file}」不是有效的检查点：{detail}",
        "Your saved file {file!r} is not a valid checkpoint: {detail}",
    ),
    "saved_not_signed": (
        "您保存的检查点「{file}」没有这份存证记录公钥的有效签名：它不是从这个网站保存的，"
        "或者网站换了密钥。",
        "Your saved checkpoint {file!r} is not signed by this log's key: it was not saved from "
        "this site, or the site changed its key.",
    ),
    "file_unreadable": (
        "无法读取文件「{file}」：{reason}。",
        "Cannot read {file!r}: {reason}.",
    ),
    "file_unwritable": (
        "无法写入文件「{file}」：{reason}。",
        "Cannot write {file!r}: {reason}.",
    ),
    "not_pdf": (
        "「{file}」不是 PDF 文件（文件开头没有 %PDF-）。",
        "{file!r} is not a PDF file (it does not begin with %PDF-).",
    ),
    "unreachable": (
        "无法连接网站（{url}）：{reason}。请检查网址和网络后再试。",
        "Cannot reach the site ({url}): {reason}. Check the address and the network.",
    ),
    "http_error": (
        "网站对 {url} 的请求返回了错误（HTTP {status}）。",
        "The site answered HTTP {status} for {url}.",
    ),
    "reason_no_such_host": ("找不到这个网址的服务器", "no server has this name"),
    "reason_timeout": ("等待太久没有回应", "it did not answer in time"),
    "reason_refused": ("服务器拒绝连接", "the server refused the connection"),
    "reason_reset": ("连接被中断", "the connection was cut"),
    "reason_no_file": ("文件不存在", "there is no such file"),
    "reason_directory": ("这是一个文件夹，不是文件", "it is a folder, not a file"),
    "reason_permission": ("没有权限", "permission denied"),
    "too_big": (
        "网站对 {url} 返回的数据超过 {limit} 字节，不像存证记录的文件。",
        "The site sent more than {limit} bytes for {url}: not a log file.",
    ),
    "not_yet": (
        "第 {index} 条记录还没有写进最新的检查点（共 {size} 条记录），请过一分钟再试。",
        "Entry {index} is not yet covered by the latest checkpoint ({size} entries); try again "
        "in a minute.",
    ),
    "no_cryptography": (
        "需要 Python 的 cryptography 包才能核对签名：请先运行 pip install cryptography。",
        "Checking signatures needs the cryptography package: run pip install cryptography.",
    ),
    "interrupted": ("已中断。", "Interrupted."),
    "internal": (
        "检查程序出错，无法完成检查：{detail}（请把这一行告诉维护者）。",
        "The checker broke down and could not finish: {detail} (please report this line).",
    ),
    # --help
    "help_description": (
        "核对微实事（Weishi）的公开存证记录：文件是否登记在案（--pdf）、存证记录是否被改写"
        "（--since）、全部记录是否完好（--audit）。退出码：0 全部通过，1 检查不通过，2 无法检查。",
        "Check Weishi's public transparency log: that a document is in it (--pdf), that it was "
        "not rewritten (--since), that every entry is sound (--audit). Exit status: 0 all "
        "checks hold, 1 a check fails, 2 could not check.",
    ),
    "help_site": (
        "网站地址，例如 https://weishi.example.org",
        "the site, e.g. https://weishi.example.org",
    ),
    "help_log_key": (
        "您从其他渠道取得的存证记录公钥（名称+编号+公钥）",
        "the log's verifier key you pinned (<name>+<id>+<key>)",
    ),
    "help_witness_key": (
        "见证方公钥，可多次指定",
        "a witness's verifier key; give it once per witness",
    ),
    "help_min_witnesses": (
        "至少要有多少个见证方签名确认（默认：所给见证方公钥的个数）",
        "how many witnesses must have cosigned (default: the number of witness keys)",
    ),
    "help_pdf": ("检查这份 PDF 是否登记在存证记录里", "check that this PDF is in the log"),
    "help_since": (
        "检查现在的存证记录是否是您以前保存的检查点的延续",
        "check that today's log extends the checkpoint you saved in this file",
    ),
    "help_jobs": (
        "核对全部记录时同时使用的进程数（默认：记录多时每个处理器核心一个）",
        "processes checking the entries during --audit (default: one per core for a large log)",
    ),
    "help_audit": (
        "下载全部记录，逐条核对并重新计算根哈希值，再按记录和开放数据重新计票、"
        "重新计算每次年度集中表决的获资助项目",
        "download every entry, check each and recompute the root; recount every ballot and "
        "recompute every round's funded projects from the entries and the open data",
    ),
    "help_checkpoint_out": (
        "核对通过后把当前检查点保存到这个文件，供以后 --since 使用",
        "save the verified checkpoint to this file, for a later --since",
    ),
    "help_lang": ("输出语言：zh（默认）或 en", "language of the output: zh (default) or en"),
}

LANGS = ("zh", "en")


class Msg:
    """A message to print: a key of ``MESSAGES`` and its parameters (which may be ``Msg``s)."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` ("zh" or "en"), its parameters filled in."""
        template = MESSAGES[self.key][LANGS.index(lang)]
        values = {
            name: value.render(lang) if isinstance(value, Msg) else value
            for name, value in self.params.items()
        }
        return template.format(**values)

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.params!r})"


class CheckError(Exception):
    """A check could not be passed; ``msg`` says what is wrong, ``exit_code`` how to exit."""

    exit_code = 2

    def __init__(self, key: str, /, **params: object) -> None:
        self.msg = Msg(key, **params)
        super().__init__(self.msg.render("en"))

    def __reduce__(self) -> tuple:
        # Raised in an audit's worker process, it reaches the checker whole (pickled).
        return (_check_error, (type(self), self.msg.key, self.msg.params))


def _check_error(cls: type[CheckError], key: str, params: dict) -> CheckError:
    return cls(key, **params)


class VerificationFailed(CheckError):
    """The log, a proof, a signature or a document is not what it must be (exit status 1)."""

    exit_code = 1


class CannotCheck(CheckError):
    """The check could not be made: command line, file or network (exit status 2)."""

    exit_code = 2


# --------------------------------------------------------------------------------------------
# Merkle trees (RFC 9162 section 2.1)
# --------------------------------------------------------------------------------------------

_sha256 = hashlib.sha256
HASH_SIZE = 32
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry): the hash of a leaf of the tree."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaves(leaf_hashes: list[bytes]) -> bytes:
    """The RFC 9162 Merkle Tree Hash of the tree whose leaves have these *leaf hashes* (use
    ``leaf_hash`` on each entry first); SHA-256 of nothing for no leaves.

    Built level by level: pairs are hashed left to right and an odd last hash moves up a
    level unchanged, which yields exactly the RFC's tree (its left subtrees are the largest
    powers of two)."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    if any(len(h) != HASH_SIZE for h in level):
        raise ValueError("every leaf hash must be 32 bytes")
    sha = _sha256
    while len(level) > 1:
        odd = level[-1] if len(level) & 1 else None
        level = [
            sha(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
        ]
        if odd is not None:
            level.append(odd)
    return level[0]


def _inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes an inclusion proof of leaf ``index`` in a tree of ``size`` holds."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_size(old_size: int, new_size: int) -> int:
    """How many hashes a consistency proof from ``old_size`` to ``new_size`` holds
    (0 < old_size < new_size)."""
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros of old_size
    seed = 0 if old_size == 1 << shift else 1
    return seed + inner - shift + border


def _check_hashes(*hashes: bytes) -> None:
    for h in hashes:
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            raise VerificationFailed("proof_hash_size")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """Return if ``proof`` proves that the leaf with hash ``leaf`` is leaf ``index`` of the tree
    of ``size`` leaves whose root is ``root`` (RFC 9162 section 2.1.3.2); otherwise raise
    ``VerificationFailed`` saying what is wrong (wrong length, wrong hashes, bad index)."""
    if not 0 <= index < size:
        raise VerificationFailed("proof_index", index=index, size=size)
    _check_hashes(leaf, root, *proof)
    want = _inclusion_proof_size(index, size)
    if len(proof) != want:
        raise VerificationFailed("proof_length", want=want, got=len(proof))
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise VerificationFailed("inclusion_failed", index=index)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    """Return if ``proof`` proves that the tree of ``new_size`` leaves with root ``new_root``
    extends the tree of ``old_size`` leaves with root ``old_root`` (RFC 9162 section 2.1.4.2);
    otherwise raise ``VerificationFailed`` saying what is wrong."""
    if not 0 <= old_size <= new_size:
        raise VerificationFailed("proof_sizes", old=old_size, new=new_size)
    _check_hashes(old_root, new_root, *proof)
    if old_size == new_size:
        if proof:
            raise VerificationFailed("proof_length", want=0, got=len(proof))
        if old_root != new_root:
            raise VerificationFailed("log_forked", size=new_size)
        return
    if old_size == 0:  # the empty tree is a prefix of every tree
        if proof:
            raise VerificationFailed("proof_length", want=0, got=len(proof))
        return
    want = _consistency_proof_size(old_size, new_size)
    if len(proof) != want:
        raise VerificationFailed("proof_length", want=want, got=len(proof))
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a whole subtree: its root is the seed
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationFailed("consistency_failed", old=old_size, new=new_size)
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise VerificationFailed("consistency_failed", old=old_size, new=new_size)


# --------------------------------------------------------------------------------------------
# Tiles (C2SP tlog-tiles, height 8)
# --------------------------------------------------------------------------------------------

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes or entries per full tile

# read_tile(level, n, width) -> the tile's bytes: exactly width * 32 of them.
TileReader = Callable[[int, int, int], bytes]


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    """The tile's path under the log's URL: ``tile/<L>/<N>`` or ``tile/<L>/<N>.p/<W>`` for a
    partial one, ``<N>`` in groups of three digits all but the last prefixed with ``x``
    (1234067 → ``x001/x234/067``); ``level="entries"`` gives an entry bundle's path."""
    if not 1 <= width <= TILE_WIDTH or n < 0:
        raise ValueError(f"no tile {level}/{n} of width {width}")
    name = f"{n % 1000:03d}"
    n //= 1000
    while n:
        name = f"x{n % 1000:03d}/{name}"
        n //= 1000
    path = f"tile/{level}/{name}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


def tile_width(level: int, n: int, size: int) -> int:
    """How many hashes the tree of ``size`` leaves has in its level-``level`` tile ``n``
    (256 for a full tile, 1–255 for the rightmost partial one, 0 if it has none). For entry
    bundles use level 0."""
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - n * TILE_WIDTH))


class TileHashes:
    """The hashes of the tree of ``size`` leaves, read from its tiles by ``read_tile``."""

    def __init__(self, size: int, read_tile: TileReader) -> None:
        self.size = size
        self.read_tile = read_tile

    def subtree(self, level: int, k: int) -> bytes:
        """The hash of the complete subtree of 2**level leaves starting at leaf k * 2**level,
        from the one tile that covers it: the level-⌊level/8⌋ tile holds the 2**(level mod 8)
        hashes it is built from."""
        tile_level, rest = divmod(level, TILE_HEIGHT)
        start, count = k << rest, 1 << rest
        n, offset = divmod(start, TILE_WIDTH)
        width = tile_width(tile_level, n, self.size)
        if offset + count > width:
            raise ValueError(f"no complete subtree {level}/{k} in a tree of {self.size}")
        data = self.read_tile(tile_level, n, width)
        if len(data) != width * HASH_SIZE:
            raise VerificationFailed(
                "tile_size",
                path=tile_path(tile_level, n, width),
                got=len(data),
                want=width * HASH_SIZE,
                count=width,
            )
        hashes = [data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(offset, offset + count)]
        while len(hashes) > 1:
            hashes = [node_hash(a, b) for a, b in zip(hashes[0::2], hashes[1::2], strict=True)]
        return hashes[0]

    def range(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a range a proof uses (lo a multiple of a power of two at least
        hi - lo): its complete subtrees, largest first, folded from the right."""
        if not 0 <= lo < hi <= self.size:
            raise ValueError(f"no range {lo}:{hi} in a tree of {self.size}")
        pieces = []
        while lo < hi:
            level = (hi - lo).bit_length() - 1
            if lo & ((1 << level) - 1):
                raise ValueError(f"range starting at {lo} is not one of a proof")
            pieces.append(self.subtree(level, lo >> level))
            lo += 1 << level
        h = pieces.pop()
        while pieces:
            h = node_hash(pieces.pop(), h)
        return h


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof_from_tiles(index: int, size: int, read_tile: TileReader) -> list[bytes]:
    """The RFC 9162 inclusion proof (section 2.1.3.1, PATH) of leaf ``index`` in the tree of
    ``size`` leaves, computed from the tree's tiles read with ``read_tile(level, n, width)``.
    Reads only the tiles the proof's hashes lie in."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    hashes = TileHashes(size, read_tile)
    siblings = []  # from the root down; the proof lists them from the leaf up
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
    return [hashes.range(a, b) for a, b in reversed(siblings)]


def consistency_proof_from_tiles(
    old_size: int, new_size: int, read_tile: TileReader
) -> list[bytes]:
    """The RFC 9162 consistency proof (section 2.1.4.1, PROOF/SUBPROOF) from the tree of
    ``old_size`` leaves to the tree of ``new_size``, computed from the new tree's tiles read
    with ``read_tile(level, n, width)``; empty when there is nothing to prove."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    hashes = TileHashes(new_size, read_tile)
    nodes = []  # from the root down; the proof lists them from the bottom up
    lo, hi, m, whole = 0, new_size, old_size, True
    while True:
        if m == hi - lo:
            if not whole:
                nodes.append((lo, hi))
            break
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            nodes.append((lo + k, hi))
            hi = lo + k
        else:
            nodes.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    return [hashes.range(a, b) for a, b in reversed(nodes)]


def parse_entry_bundle(data: bytes, width: int, path: str = "") -> list[bytes]:
    """The entries of an entry bundle (each a 2-byte big-endian length and that many bytes);
    ``VerificationFailed`` if it is cut short or does not hold exactly ``width`` entries."""
    entries = []
    append = entries.append
    pos, end = 0, len(data)
    while pos < end:
        start = pos + 2
        stop = start + ((data[pos] << 8) | data[pos + 1]) if start <= end else end + 1
        if stop > end:
            raise VerificationFailed("bundle_truncated", path=path, number=len(entries) + 1)
        append(data[start:stop])
        pos = stop
    if len(entries) != width:
        raise VerificationFailed("bundle_count", path=path, got=len(entries), want=width)
    return entries


# --------------------------------------------------------------------------------------------
# Signed notes, verifier keys, checkpoints, cosignatures (C2SP signed-note, tlog-checkpoint,
# tlog-cosignature)
# --------------------------------------------------------------------------------------------

KEY_ED25519 = 0x01  # the log's own signature
KEY_COSIGNATURE = 0x04  # a witness's cosignature (tlog-cosignature/v1)
SIGNATURE_PREFIX = "— "  # an em dash (U+2014) and a space
MAX_SIGNATURES = 100


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """The 4-byte key id: the first bytes of SHA-256(name ‖ "\\n" ‖ type ‖ public key)."""
    return _sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A verifier key ``<name>+<key id>+<base64(type ‖ public key)>``, parsed and checked."""

    name: str
    key_id: bytes
    kind: int  # KEY_ED25519 for the log, KEY_COSIGNATURE for a witness
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> int | None:
        """Check ``signature`` (what follows the key id in a signature line) over the note
        ``text``: return the cosignature's time (unix seconds) for a witness key, None for
        the log's; raise ``InvalidSignature`` if it does not hold."""
        if Ed25519PublicKey is None:
            raise CannotCheck("no_cryptography")
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.kind == KEY_ED25519:
            if len(signature) != 64:
                raise InvalidSignature()
            public.verify(signature, text)
            return None
        if len(signature) != 8 + 64:
            raise InvalidSignature()
        timestamp = int.from_bytes(signature[:8], "big")
        public.verify(signature[8:], b"cosignature/v1\ntime %d\n" % timestamp + text)
        return timestamp


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse ``<name>+<8 hex>+<base64>``: Ed25519 of type 0x01 (a log) or 0x04 (a witness's
    cosignature), whose key id matches its name and key. ``CannotCheck`` saying what is wrong
    otherwise."""

    def bad(detail: str, **params: object) -> CannotCheck:
        return CannotCheck("key_malformed", key=vkey, detail=Msg(detail, **params))

    parts = vkey.strip().split("+", 2)  # the name has no "+"; base64 may
    if len(parts) != 3:
        raise bad("key_parts")
    name, id_hex, encoded = parts
    if not _valid_name(name):
        raise bad("key_name")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
        raise bad("key_id_hex")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise bad("key_base64") from None
    if len(raw) != 33:
        raise bad("key_base64")
    kind, public = raw[0], raw[1:]
    if kind not in (KEY_ED25519, KEY_COSIGNATURE):
        raise bad("key_type", kind=f"0x{kind:02x}")
    want = key_id(name, kind, public)
    if bytes.fromhex(id_hex) != want:
        raise bad("key_id_mismatch", key_id=id_hex, want=want.hex())
    return VerifierKey(name, want, kind, public)


@dataclass(frozen=True)
class NoteSignature:
    """A verified signature of a note: whose key, and when a witness cosigned."""

    key: VerifierKey
    timestamp: int | None = None


@dataclass(frozen=True)
class SignedNote:
    """A signed note, opened: its text, the signatures verified by known keys, and the
    (name, key id) of the signatures by keys not given."""

    text: str
    signatures: list[NoteSignature]
    unknown: list[tuple[str, bytes]] = field(default_factory=list)


def open_signed_note(note: bytes | str, keys: Iterable[VerifierKey]) -> SignedNote:
    """Split a signed note into its text and signatures and verify every signature made by
    one of ``keys`` (matched on name and key id). ``VerificationFailed`` if the note is
    malformed or a signature by a known key does not hold; signatures by other keys are only
    listed. Whether the right keys signed is the caller's to check."""
    if isinstance(note, str):
        note = note.encode("utf-8", "surrogatepass")

    def malformed(detail: str, **params: object) -> VerificationFailed:
        return VerificationFailed("note_malformed", detail=Msg(detail, **params))

    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("note_not_utf8") from None
    if any(c < " " and c != "\n" for c in decoded):
        raise malformed("note_not_utf8")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise malformed("note_no_signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block or not block.endswith("\n"):
        raise malformed("note_no_signatures")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise malformed("note_too_many")
    by_id = {(k.name, k.key_id): k for k in keys}
    text_bytes = text.encode()
    signatures: list[NoteSignature] = []
    unknown: list[tuple[str, bytes]] = []
    seen = set()
    for line in lines:
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not line.startswith(SIGNATURE_PREFIX) or not _valid_name(name) or len(raw) < 5:
            raise malformed("note_bad_line", line=line[:80])
        ident = (name, raw[:4])
        key = by_id.get(ident)
        if key is None:
            if ident not in unknown:
                unknown.append(ident)
            continue
        if ident in seen:  # a repeated signature by one key counts once
            continue
        seen.add(ident)
        try:
            timestamp = key.verify(text_bytes, raw[4:])
        except InvalidSignature:
            raise VerificationFailed("bad_signature", name=name, key_id=raw[:4].hex()) from None
        signatures.append(NoteSignature(key, timestamp))
    return SignedNote(text, signatures, unknown)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's text: the log's origin, its tree size and root hash (and any extension
    lines, which the signature covers but this checker does not interpret)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint's text (``<origin>\\n<size>\\n<base64 root>\\n``); given a whole
    signed note, its signatures are ignored (``open_signed_note`` checks them). Raise
    ``VerificationFailed`` saying what is malformed."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationFailed("note_malformed", detail=Msg("note_not_utf8")) from None
    text = text.split("\n\n", 1)[0] + "\n" if "\n\n" in text else text

    def malformed(detail: str, **params: object) -> VerificationFailed:
        return VerificationFailed("note_malformed", detail=Msg(detail, **params))

    if not text.endswith("\n"):
        raise malformed("checkpoint_lines")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise malformed("checkpoint_lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise malformed("checkpoint_origin")
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
        raise malformed("checkpoint_size", value=size_text[:40])
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        root = b""
    if len(root) != HASH_SIZE:
        raise malformed("checkpoint_root", value=root_text[:60])
    if any(not line for line in extensions):
        raise malformed("checkpoint_extension")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature held, with the witnesses that cosigned it."""

    checkpoint: Checkpoint
    note: bytes
    log_key: VerifierKey
    cosigned: dict[str, int]  # witness key name → cosignature time (unix seconds)
    absent: list[str]  # witness key names without a cosignature


def verify_checkpoint(
    note: bytes,
    log_keys: list[VerifierKey],
    witness_keys: Iterable[VerifierKey] = (),
    min_witnesses: int = 0,
) -> VerifiedCheckpoint:
    """Open the checkpoint ``note``, require a valid signature by one of ``log_keys`` whose
    name is the checkpoint's origin and valid cosignatures by at least ``min_witnesses`` of
    ``witness_keys``; ``VerificationFailed`` saying what is wrong otherwise."""
    witness_keys = list(witness_keys)
    opened = open_signed_note(note, [*log_keys, *witness_keys])
    checkpoint = parse_checkpoint(opened.text)
    logs = [s.key for s in opened.signatures if s.key.kind == KEY_ED25519]
    if not logs:
        keys = " / ".join(f"{k.name}+{k.key_id.hex()}" for k in log_keys)
        raise VerificationFailed("no_log_signature", keys=keys)
    if logs[0].name != checkpoint.origin:
        raise VerificationFailed("origin_not_key", origin=checkpoint.origin, name=logs[0].name)
    cosigned = {
        s.key.name: s.timestamp or 0 for s in opened.signatures if s.key.kind != KEY_ED25519
    }
    absent = [k.name for k in witness_keys if k.name not in cosigned]
    if len(cosigned) < min_witnesses:
        raise VerificationFailed("witnesses_short", count=len(cosigned), min=min_witnesses)
    return VerifiedCheckpoint(checkpoint, note, logs[0], cosigned, absent)


# --------------------------------------------------------------------------------------------
# Entries and the audit's recomputations
# --------------------------------------------------------------------------------------------


def canonical_json(value: object) -> bytes:
    """The canonical encoding the log uses: UTF-8, keys sorted, no spaces."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity are Python's, not JSON's


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def parse_entry(data: bytes) -> dict | None:
    """The entry as a JSON object, or None if it is not one (bad UTF-8, not JSON, trailing
    bytes, not an object)."""
    try:
        text = data.decode("utf-8")
        value, end = _DECODER.scan_once(text, 0)
    except (UnicodeDecodeError, ValueError, StopIteration):
        return None
    return value if end == len(text) and type(value) is dict else None


def _is_canonical(data: bytes, value: object) -> bool:
    try:
        return _ENCODER.encode(value).encode("utf-8") == data
    except (UnicodeEncodeError, ValueError):
        return False


@dataclass
class Recomputed:
    """What a recomputation found: how many results it checked, how many disagreed, what to
    tell the reader about them (at most a few ``Msg`` lines) and a summary (``Msg`` or None)."""

    checked: int = 0
    failed: int = 0
    problems: list[Msg] = field(default_factory=list)
    summary: Msg | None = None
    more: int = 0  # problems found beyond those kept in ``problems``
    notes: list[Msg] = field(default_factory=list)  # lines after the summary (not failures)

    def problem(self, msg: Msg, limit: int = 10) -> None:
        """Count a disagreement and keep its description (the first ``limit`` only)."""
        self.failed += 1
        if len(self.problems) < limit:
            self.problems.append(msg)


class Recomputation:
    """EXTENSION POINT: a published result recomputed from the entries during ``--audit``.

    A subclass names itself (``title``: a key of ``MESSAGES``), is fed every bundle's parsed
    entries in index order (``feed``: the first entry's index and the entries, each a dict or
    None when it was not a JSON object) and says at the end what it checked (``finish``).
    It must keep only what it needs (a count per ballot, not the entries): the audit streams
    a million entries. Register it with ``@recomputation``; the audit runs every registered
    one, prints its counts and fails if any disagreed. ``site`` is the site audited (set by
    the audit before ``finish``): a recomputation may fetch what the site publishes from it."""

    title = ""
    site: Site | None = None
    # The actions whose entries it reads whole; any other entry reaches it with only its
    # ``index``, ``object`` and ``action`` (the audit's worker processes send back no more).
    # None: every entry whole.
    whole: frozenset[str] | None = None

    def feed(self, first_index: int, entries: list[dict | None]) -> None:
        raise NotImplementedError

    def finish(self) -> Recomputed:
        raise NotImplementedError


RECOMPUTATIONS: list[type[Recomputation]] = []


def recomputation(cls: type[Recomputation]) -> type[Recomputation]:
    """Register a recomputation for ``--audit`` (a class decorator)."""
    RECOMPUTATIONS.append(cls)
    return cls


@recomputation
class ObjectHistories(Recomputation):
    """Each object's history (``object``: its entries in order): rebuilt in index order, with
    every entry's index following the one before it, so no entry is missing or repeated in
    any history. Times are not compared: an entry's time is when the act happened, and the
    log does not promise those never decrease with the index."""

    title = "recompute_object_histories"
    whole = frozenset()

    def __init__(self) -> None:
        self.result = Recomputed()
        self.previous = -1
        self.lengths: collections.Counter[str] = collections.Counter()

    def feed(self, first_index: int, entries: list[dict | None]) -> None:
        lengths, result = self.lengths, self.result
        for entry in entries:
            result.checked += 1
            if entry is None:
                self.previous += 1  # counted by the audit itself (not a JSON object)
                continue
            index, obj = entry.get("index"), entry.get("object")
            key = obj if isinstance(obj, str) else json.dumps(obj)
            if type(index) is not int or index != self.previous + 1:
                result.problem(Msg("history_gap", object=key, index=index, previous=self.previous))
            if type(index) is int:
                self.previous = index
            else:
                self.previous += 1
            lengths[key] += 1

    def finish(self) -> Recomputed:
        self.result.summary = Msg("histories_summary", objects=len(self.lengths))
        return self.result


# --------------------------------------------------------------------------------------------
# Ballots and rounds recomputed (docs/transparency-log.md, "Audit")
# --------------------------------------------------------------------------------------------

# The thresholds of the rules of procedure (DESIGN.md, "Rules of procedure").
THRESHOLDS = ("majority_of_members", "majority_of_cast", "two_thirds_of_cast")
CHOICES = ("yes", "no", "abstain")


def ballot_tally(
    base: int, yes: int, no: int, abstain: int, quorum: Fraction, threshold: str
) -> dict[str, object]:
    """What follows from a ballot's counts under the rules it copied, as its closing entry
    writes it: the counts and rules themselves (the quorum as ``"n/d"`` in lowest terms),
    ``participation``, ``cast``, ``quorum_needed``, ``valid``, ``yes_needed``, ``passed`` and
    ``outcome``. Exact integers and fractions only. ``ValueError`` for a threshold that is
    none of ``THRESHOLDS``."""
    if threshold not in THRESHOLDS:
        raise ValueError(f"unknown threshold {threshold!r}")
    participation, cast = yes + no + abstain, yes + no
    valid = participation >= quorum * base  # reaching the quorum exactly is enough
    if threshold == "majority_of_members":
        yes_needed = base // 2 + 1
    elif threshold == "majority_of_cast":
        yes_needed = cast // 2 + 1
    else:
        yes_needed = max(1, -(-2 * cast // 3))  # ⌈2/3 × cast⌉, and at least one
    passed = valid and cast > 0 and yes >= yes_needed  # a tie fails; nothing cast, nothing passes
    return {
        "base": base,
        "yes": yes,
        "no": no,
        "abstain": abstain,
        "quorum": f"{quorum.numerator}/{quorum.denominator}",
        "threshold": threshold,
        "participation": participation,
        "cast": cast,
        "quorum_needed": -(-quorum.numerator * base // quorum.denominator),
        "valid": valid,
        "yes_needed": yes_needed,
        "passed": passed,
        "outcome": "approved" if passed else "rejected" if valid else "invalid",
    }


def _lines_sha256(lines: Iterable[str]) -> str:
    """SHA-256 of UTF-8 lines, each followed by one line feed (docs/security.md)."""
    return _sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def ballot_list_sha256(
    ballot_id: int, votes: Iterable[tuple[object, object]], hands: tuple[object, ...]
) -> str:
    """The ``votes_sha256`` of a ballot's published list: ``votes`` are its (commitment,
    choice) rows, ``hands`` the show of hands (yes, no, abstain)."""
    return _lines_sha256(
        [
            "weishi:ballot_votes:v2",
            f"ballot:{ballot_id}",
            *sorted(f"vote:{commitment}:{choice}" for commitment, choice in votes),
            "hands:{}:{}:{}".format(*hands),
        ]
    )


def round_list_sha256(round_id: int, ballots: Iterable[tuple[object, object]]) -> str:
    """The ``votes_sha256`` of a round's published list: ``ballots`` are its (commitment,
    approved) rows, approved as written (ids ascending, comma-separated)."""
    return _lines_sha256(
        [
            "weishi:round_ballots:v2",
            f"round:{round_id}",
            *sorted(f"ballot:{commitment}:{approved}" for commitment, approved in ballots),
        ]
    )


# A round's funding rules, from their definitions. Projects are numbered 0, 1, … in the order
# of the slate, which is the order of submission; costs and the money are exact yuan
# (``Fraction``); a ballot is the set of numbers of the projects it approves. Ties go to the
# lower cost, then to the earlier project.


def fund_greedy(costs: list[Fraction], ballots: list[set[int]], money: Fraction) -> list[int]:
    """Most approved first, each funded if it fits in what is left, the next ones still tried;
    a project nobody approved never. The funded projects in the order they were funded."""
    approvals = [0] * len(costs)
    for ballot in ballots:
        for p in ballot:
            approvals[p] += 1
    ranking = sorted(
        (p for p in range(len(costs)) if approvals[p]), key=lambda p: (-approvals[p], costs[p], p)
    )
    funded, left = [], money
    for p in ranking:
        if costs[p] <= left:
            funded.append(p)
            left -= costs[p]
    return funded


def _equal_shares_run(
    costs: list[int],
    supporters: list[list[int]],
    voters: int,
    share: Fraction,
    candidates: list[int],
    track: bool,
) -> tuple[list[int], Fraction | None]:
    """One run of the Method of Equal Shares with cost satisfaction, every voter starting with
    ``share`` yuan (``costs`` in fen): the projects it funds, in order; and, with ``track``, a
    margin ``d`` such that a run from any share in ``[share, share + d)`` funds the same (None:
    any larger share does).

    Each round, among the projects whose supporters together still hold their cost, it funds
    the one of least price ``rho / cost`` (ties: lower cost, then earlier), where ``rho`` is the
    least amount such that each supporter paying ``min(their money, rho)`` makes the cost; the
    supporters pay that. It ends when no project is affordable.

    The margin. Along this run's course (which project each round funds, which of its
    supporters pay all they have and which pay ``rho``) every amount is an affine function of
    the starting share: each is carried with its rate of change. Every comparison that made
    the course is a difference, now at least zero, moving at a known rate; while none has
    fallen below zero the course is the same. A project that lost a round is compared by its
    price as computed in that round, with that round's split of its supporters: whatever the
    share, that figure is at most its true price (the rich pay ``rho``, the poor at most their
    money), so while the figure stays at or above the winner's price the project cannot win.

    Exact and quick: each voter's money (in fen) and its rate are integers over one common
    denominator ``scale``, multiplied by the number of payers who split a cost equally (and
    reduced again), so the inner loops add and compare integers; prices are fractions."""
    scale = share.denominator
    money = [share.numerator * 100] * voters  # money[i] / scale fen
    rate = [100 * scale if track else 0] * voters  # its rate: fen per yuan of starting share
    remaining, funded = list(candidates), []
    margin: Fraction | None = None

    def holds(difference: int, moving: int) -> None:
        nonlocal margin
        if moving < 0 and (margin is None or difference < -moving * margin):
            margin = Fraction(difference, -moving)

    while remaining:
        priced = []  # (price, cost, project, price's rate, payers, poor, rich, rho×rich, its rate)
        for p in remaining:
            need, payers = costs[p] * scale, supporters[p]
            held = sum([money[i] for i in payers])
            if held < need:  # money only falls during a run: out for the rest of it
                if track:
                    holds(need - held, -sum([rate[i] for i in payers]))
                continue
            payers = sorted(payers, key=money.__getitem__)
            paid = paid_rate = poor = 0
            rich = len(payers)
            while money[payers[poor]] * rich < need - paid:  # cannot pay an equal part
                paid += money[payers[poor]]
                paid_rate += rate[payers[poor]]
                rich -= 1
                poor += 1
            # rho = (need - paid) / (rich × scale) fen; price = rho / cost
            whole = rich * need
            priced.append(
                (
                    Fraction(need - paid, whole),
                    costs[p],
                    p,
                    Fraction(-paid_rate, whole),
                    payers,
                    poor,
                    rich,
                    need - paid,
                    -paid_rate,
                )
            )
        if not priced:
            break
        best = min(priced, key=lambda option: option[:3])
        price, _cost, chosen, price_rate, payers, poor, rich, part, part_rate = best
        if track:
            for i in payers[:poor]:  # pay all they have: money ≤ rho
                holds(part - money[i] * rich, part_rate - rate[i] * rich)
            for i in payers[poor:]:  # pay rho: money ≥ rho
                holds(money[i] * rich - part, rate[i] * rich - part_rate)
            for other in priced:
                if other[2] != chosen:
                    difference, moving = other[0] - price, other[3] - price_rate
                    if moving < 0 and (margin is None or difference < -moving * margin):
                        margin = difference / -moving
        # Everything is counted in 1/(scale × rich) from now on, so that rho is whole.
        paying = set(payers)
        for i in range(voters):
            if i not in paying:
                money[i] *= rich
                rate[i] *= rich
        for i in payers[:poor]:
            money[i] = rate[i] = 0
        for i in payers[poor:]:
            money[i] = money[i] * rich - part
            rate[i] = rate[i] * rich - part_rate
        scale *= rich
        common = math.gcd(scale, *money, *rate)
        if common > 1:
            scale //= common
            money = [m // common for m in money]
            rate = [r // common for r in rate]
        funded.append(chosen)
        remaining = [other[2] for other in priced if other[2] != chosen]
    return funded, margin


def fund_equal_shares(
    costs: list[Fraction], ballots: list[set[int]], money: Fraction, completion: str = "add1"
) -> list[int]:
    """The Method of Equal Shares with cost satisfaction, as Pabulib and pabutools define it,
    each voter starting with ``money / voters``: with ``completion="none"`` that run's outcome.
    With ``"add1"`` (pabutools' ``voter_budget_increment=1``) each voter's starting money is
    raised by one yuan at a time and the run repeated, until an outcome costs more than
    ``money`` (the one before is the result) or leaves no approved project that fits in what
    is left (that one is). Raises are skipped only while the outcome is certain to stay the
    same (``_equal_shares_run``'s margin): the result is the one-yuan loop's. The funded
    projects in the order the run funded them. ``ValueError`` for a cost that is not a
    positive amount of whole fen."""
    if completion not in ("add1", "none"):
        raise ValueError(f"unknown completion {completion!r}")
    if any(cost <= 0 or (cost * 100).denominator != 1 for cost in costs):
        raise ValueError("every cost must be a positive amount in whole fen")
    fen = [int(cost * 100) for cost in costs]
    supporters: list[list[int]] = [[] for _ in costs]
    for voter, ballot in enumerate(ballots):
        for p in ballot:
            supporters[p].append(voter)
    candidates = [p for p in range(len(costs)) if supporters[p]]
    if not candidates:
        return []
    share = Fraction(money) / len(ballots)
    if completion == "none":
        return _equal_shares_run(fen, supporters, len(ballots), share, candidates, False)[0]
    previous: list[int] = []
    while True:
        funded, margin = _equal_shares_run(fen, supporters, len(ballots), share, candidates, True)
        spent = sum((costs[p] for p in funded), Fraction(0))
        if spent > money:
            return previous
        if all(spent + costs[p] > money for p in candidates if p not in funded):
            return funded
        if margin is None:  # the same outcome for any larger share: the loop would not end
            return funded
        previous = funded
        share += max(1, math.ceil(margin))


def _yuan(value: object) -> Fraction | None:
    """An amount of yuan written as a decimal ("11800.00", "30") as a fraction, or None."""
    if type(value) is not str or not re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,2})?", value):
        return None
    return Fraction(value)


def _count(value: object) -> bool:
    return type(value) is int and value >= 0


def _counts(counts: Iterable[object]) -> Msg:
    yes, no, abstain = counts
    return Msg("counts", yes=yes, no=no, abstain=abstain)


def _tally_of(choices: Iterable[object]) -> tuple[int, int, int]:
    choices = list(choices)
    return choices.count("yes"), choices.count("no"), choices.count("abstain")


@dataclass
class Decided:
    """What the log says of one ballot or round: its opening and closing entries (their
    index and payload) and what the entries between say of the votes."""

    id: int
    first: object = None  # index of its first entry
    opened: dict | None = None
    opened_at: object = None
    closed: dict | None = None
    closed_at: object = None
    base: object = None  # as opened, then after each recusal
    secret: bool | None = None  # None: an opening entry before the rules were copied in it
    votes: dict = field(default_factory=dict)  # roll-call: voter's commitment → last choice
    voters: set = field(default_factory=set)  # commitments of the members who voted
    before_audit: bool = False  # a vote entry without the voter's commitment
    recusals: int = 0  # of a secret ballot: each may have withdrawn a vote
    hands: tuple = (0, 0, 0)  # the clerk's last show of hands
    problems: list[Msg] = field(default_factory=list)


class OpenData:
    """The site's open data files (``/open-data/<name>.json``), each fetched once."""

    def __init__(self, site: Site | None) -> None:
        self.site = site
        self.files: dict[str, list[dict]] = {}

    def rows(self, name: str) -> list[dict]:
        if name not in self.files:
            if self.site is None:
                raise CannotCheck("open_data_malformed", url=f"/open-data/{name}.json")
            self.files[name] = self.site.open_data(name)
        return self.files[name]

    def by_id(self, name: str, key: str) -> dict[int, dict]:
        """The rows by their ``key`` column (the last one of an id repeated)."""
        return {row[key]: row for row in self.rows(name) if type(row.get(key)) is int}

    def grouped(self, name: str, key: str) -> dict[int, list[dict]]:
        """The rows by their ``key`` column, many to an id."""
        groups: dict[int, list[dict]] = collections.defaultdict(list)
        for row in self.rows(name):
            if type(row.get(key)) is int:
                groups[row[key]].append(row)
        return groups


NOTES_SHOWN = 10  # of the ballots or rounds recomputed only in part, those named


class Decisions(Recomputation):
    """What recounting ballots and rounds shares: each one's entries gathered by its object in
    index order, handed to the method its action names; an entry after the closing one (a vote
    slipped in late) and entries of one the log never opened are problems. ``finish`` checks
    each closed one (``check``, against the open data fetched in ``prepare``): one checked
    result each, one failure per ballot or round that disagrees, its problems listed."""

    kind = ""  # the object type and its colon: "voting.ballot:"
    subject = ""  # the MESSAGES key that names one
    dataset = ""  # the open data that lists their results
    handlers: dict[str, str] = {}  # action → the method that takes its entries

    def __init__(self) -> None:
        self.result = Recomputed()
        self.seen: dict[int, Decided] = {}  # by id
        self.objects: dict[str, Decided] = {}  # by the entries' object, as written
        self.dispatch = {action: getattr(self, name) for action, name in self.handlers.items()}
        self.whole = frozenset(self.handlers)
        self.open_data = OpenData(None)
        self.partly = 0

    def feed(self, first_index: int, entries: list[dict | None]) -> None:
        dispatch, objects = self.dispatch, self.objects
        for entry in entries:
            if entry is None:
                continue
            action = entry.get("action")
            handler = dispatch.get(action) if type(action) is str else None
            if handler is None:
                continue
            obj = entry.get("object")
            one = objects.get(obj) if type(obj) is str else None
            if one is None:
                one = self.find(obj, entry.get("index"))
                if one is None:
                    continue
            if one.closed is not None:
                one.problems.append(
                    Msg(
                        "after_close",
                        subject=self.name(one),
                        index=entry.get("index"),
                        action=action,
                        closed=one.closed_at,
                    )
                )
                continue
            payload = entry.get("payload")
            handler(one, entry, payload if type(payload) is dict else {})

    def find(self, obj: object, index: object) -> Decided | None:
        """The ballot or round an entry's ``object`` names (``voting.ballot:12``), or None if
        it names none."""
        kind = self.kind
        if type(obj) is not str or not obj.startswith(kind):
            return None
        number = obj[len(kind) :]
        if not (number.isdecimal() and number.isascii() and len(number) < 19):
            return None
        one = self.seen.get(int(number))
        if one is None:
            one = self.seen[int(number)] = Decided(int(number), first=index)
        self.objects[obj] = one
        return one

    def name(self, one: Decided) -> Msg:
        return Msg(self.subject, id=one.id)

    def opening(self, one: Decided, entry: dict, payload: dict) -> None:
        if one.opened is not None:
            one.problems.append(
                Msg(
                    "twice",
                    subject=self.name(one),
                    index=entry.get("index"),
                    action=entry["action"],
                )
            )
            return
        one.opened, one.opened_at, one.base = payload, entry.get("index"), payload.get("base")
        rules = payload.get("rules")
        if isinstance(rules, dict):
            one.secret = rules.get("secrecy") == "secret"

    def closing(self, one: Decided, entry: dict, payload: dict) -> None:
        one.closed, one.closed_at = payload, entry.get("index")

    def differs(self, one: Decided, what: Msg, where: Msg, published: object, recomputed: object):
        """A figure published in ``where`` that is not the recomputed one."""
        return Msg(
            "differs",
            subject=self.name(one),
            what=what,
            where=where,
            published=_shown(published),
            recomputed=_shown(recomputed),
        )

    def note(self, one: Decided, why: str) -> None:
        """Say that ``one`` could be recomputed only in part, and why (not a failure)."""
        self.partly += 1
        if self.partly <= NOTES_SHOWN:
            self.result.notes.append(Msg("partly", subject=self.name(one), why=Msg(why)))

    def finish(self) -> Recomputed:
        result = self.result
        if any(one.closed is not None for one in self.seen.values()):
            if self.open_data.site is None:
                self.open_data.site = self.site
            self.prepare()
        closed = still_open = 0
        for one in sorted(self.seen.values(), key=lambda one: one.id):
            problems = list(one.problems)
            if one.opened is None:
                problems.insert(0, Msg("never_opened", subject=self.name(one), index=one.first))
            elif one.closed is None:
                still_open += 1
            else:
                closed += 1
                problems += self.check(one)
            if one.closed is not None or problems:
                result.checked += 1
            if problems:
                result.failed += 1
                for msg in problems:
                    if len(result.problems) < 10:
                        result.problems.append(msg)
                    else:
                        result.more += 1
        self.summarise(closed, still_open)
        unlogged = sorted(set(getattr(self, "rows", {})) - set(self.seen))
        if unlogged:  # decided after the checkpoint was signed, or published without evidence
            result.notes.append(
                Msg("unlogged", dataset=self.dataset, count=len(unlogged), first=unlogged[0])
            )
        if self.partly > NOTES_SHOWN:
            result.notes.append(Msg("notes_more", count=self.partly - NOTES_SHOWN))
        return result

    def prepare(self) -> None:
        raise NotImplementedError

    def check(self, one: Decided) -> list[Msg]:
        raise NotImplementedError

    def summarise(self, closed: int, still_open: int) -> None:
        raise NotImplementedError


BALLOT_FIELDS = (
    "base",
    "yes",
    "no",
    "abstain",
    "quorum",
    "threshold",
    "participation",
    "cast",
    "quorum_needed",
    "valid",
    "yes_needed",
    "passed",
    "outcome",
)
BALLOT_PUBLISHED = (
    "base",
    "yes",
    "no",
    "abstain",
    "participation",
    "outcome",
    "threshold",
    "quorum",
    "secrecy",
    "votes_sha256",
)


@recomputation
class BallotTallies(Decisions):
    """Every closed ballot recounted.

    From the log: the rules and base it copied (``ballot.opened``: ``base``, ``rules``), the
    base after each recusal (``ballot.member_recused``), each member's last vote (roll-call:
    ``choice`` by ``voter``, the voter's commitment; secret: only that ``voter`` voted), the
    clerk's last show of hands (``ballot.hands_counted``) and what the closing entry publishes
    (``ballot.closed``: the counts, what follows from them, ``votes_sha256``). From the open
    data: the published result (``ballots``) and list of votes (``ballot_receipts``).

    Checked: the closing entry's figures follow from its counts under the rules copied; a
    roll-call ballot's votes in the log count to them; the published list has the SHA-256 the
    closing entry seals, counts to them with the show of hands, and holds the log's votes (one
    line per member who voted online); the open data shows the same; no vote is recorded after
    the close; a secret ballot's entries name no voter and no choice."""

    title = "recompute_ballots"
    kind = "voting.ballot:"
    subject = "subject_ballot"
    dataset = "ballots"
    secret_ballots = 0
    handlers = {
        "ballot.opened": "opening",
        "vote.cast": "voted",
        "vote.changed": "voted",
        "vote.recorded_by_clerk": "voted",
        "ballot.hands_counted": "hands_counted",
        "ballot.member_recused": "recused",
        "ballot.closed": "closing",
    }

    def voted(self, one: Decided, entry: dict, payload: dict) -> None:
        voter = payload.get("voter")
        if type(voter) is not str:
            one.before_audit, voter = True, None
        if one.secret:
            if entry.get("actor") is not None or "choice" in payload or "member" in payload:
                one.problems.append(
                    Msg(
                        "names_voter",
                        subject=self.name(one),
                        index=entry.get("index"),
                        action=entry["action"],
                    )
                )
            one.voters.add(voter)
        else:
            one.votes[voter] = payload.get("choice")

    def hands_counted(self, one: Decided, entry: dict, payload: dict) -> None:
        one.hands = tuple(payload.get(choice) for choice in CHOICES)

    def recused(self, one: Decided, entry: dict, payload: dict) -> None:
        one.base = payload.get("base")
        if one.secret:
            one.recusals += 1  # whether the member had voted is not published: allowed for
        elif type(payload.get("voter")) is str:
            one.votes.pop(payload["voter"], None)
        else:
            one.before_audit = True

    def prepare(self) -> None:
        self.rows = self.open_data.by_id("ballots", "ballot_id")
        self.lists = self.open_data.grouped("ballot_receipts", "ballot_id")

    def check(self, one: Decided) -> list[Msg]:
        problems: list[Msg] = []
        closed, name = one.closed, self.name(one)
        rules = one.opened.get("rules") if isinstance(one.opened.get("rules"), dict) else {}
        numerator, denominator = rules.get("quorum_numerator"), rules.get("quorum_denominator")
        counts = tuple(closed.get(choice) for choice in CHOICES)
        if not (
            _count(one.base)
            and all(_count(count) for count in counts)
            and _count(numerator)
            and type(denominator) is int
            and 0 < numerator <= denominator
            and rules.get("threshold") in THRESHOLDS
        ):
            return [Msg("malformed", subject=name, opened=one.opened_at, closed=one.closed_at)]
        self.secret_ballots += bool(one.secret)
        tally = ballot_tally(
            one.base, *counts, Fraction(numerator, denominator), rules["threshold"]
        )
        where = Msg("where_closing", index=one.closed_at)
        for key in BALLOT_FIELDS:  # the closing entry against the rules copied at opening
            if key in closed and closed[key] != tally[key]:
                problems.append(
                    self.differs(one, Msg(f"field_{key}"), where, closed[key], tally[key])
                )
        log_votes = _tally_of(one.votes.values())
        if not one.secret and not one.before_audit and log_votes != counts:
            problems.append(
                Msg(
                    "recount",
                    subject=name,
                    got=_counts(log_votes),
                    want=_counts(counts),
                    index=one.closed_at,
                )
            )
        row = self.rows.get(one.id)
        if row is None:
            problems.append(
                Msg("not_published", subject=name, index=one.closed_at, dataset="ballots")
            )
            return problems
        published = {
            **tally,
            "quorum": f"{numerator}/{denominator}",  # as copied, not reduced
            "secrecy": rules.get("secrecy"),
            "votes_sha256": closed.get("votes_sha256"),
        }
        where = Msg("where_open_data", dataset="ballots")
        for key in BALLOT_PUBLISHED:
            if row.get(key) != published[key]:
                problems.append(
                    self.differs(one, Msg(f"field_{key}"), where, row.get(key), published[key])
                )
        if row.get("votes_format") != "receipts":
            self.note(one, "why_before_receipts")
            return problems
        lines = [
            (line.get("commitment"), line.get("choice")) for line in self.lists.get(one.id, [])
        ]
        hands = tuple(row.get(f"hands_{choice}") for choice in CHOICES)
        digest = ballot_list_sha256(one.id, lines, hands)
        if digest != closed.get("votes_sha256"):
            problems.append(
                Msg(
                    "list_sha256",
                    subject=name,
                    dataset="ballot_receipts",
                    got=digest,
                    want=_shown(closed.get("votes_sha256")),
                    index=one.closed_at,
                )
            )
        listed = _tally_of(choice for _commitment, choice in lines)
        with_hands = tuple(n + (h if _count(h) else 0) for n, h in zip(listed, hands, strict=True))
        if with_hands != counts:
            problems.append(
                Msg(
                    "list_count",
                    subject=name,
                    got=_counts(with_hands),
                    want=_counts(counts),
                    index=one.closed_at,
                )
            )
        if hands != one.hands:
            problems.append(Msg("hands", subject=name, got=_counts(hands), want=_counts(one.hands)))
        if one.before_audit:
            self.note(one, "why_before_audit")
        elif one.secret:
            voters = len(one.voters)
            if not voters - one.recusals <= len(lines) <= voters:
                problems.append(
                    Msg(
                        "list_voters",
                        subject=name,
                        rows=len(lines),
                        voters=voters,
                        recused=one.recusals,
                    )
                )
        elif listed != log_votes:
            problems.append(
                Msg("list_votes", subject=name, got=_counts(listed), want=_counts(log_votes))
            )
        return problems

    def summarise(self, closed: int, still_open: int) -> None:
        self.result.summary = Msg(
            "ballots_summary", closed=closed, secret=self.secret_ballots, open=still_open
        )


ROUND_RULES = {
    ("greedy", True): "rule_greedy",
    ("greedy", False): "rule_greedy",
    ("mes", True): "rule_mes_add1",
    ("mes", False): "rule_mes",
}


@recomputation
class RoundFunding(Decisions):
    """Every closed yearly round's funded projects recomputed.

    From the log: the slate and what it opened with (``round.opened``: ``slate``, ``costs``,
    ``money``, ``rule``, ``add1``, ``base``, ``rules``), who handed in a ballot (``voter``, and
    for a roll-call round its ``approved`` projects) and what the closing entry publishes
    (``round.closed``: ``participation``, ``valid``, ``funded``, ``approvals``, ``spent``,
    ``votes_sha256``). From the open data: the published list of approval ballots
    (``round_receipts``), the result (``rounds``) and each project's (``round_projects``).

    Checked: the published list has the SHA-256 the closing entry seals and one ballot per
    member who voted in the log (the same ballots, in a roll-call round); from it, under the
    round's rule run here (greedy, or Equal Shares with or without Add1), the quorum, the
    approvals, the funded projects in order and the money spent are the closing entry's and the
    open data's; no ballot is recorded after the close; a secret round's entries name no member
    and no approvals."""

    title = "recompute_rounds"
    kind = "voting.round:"
    subject = "subject_round"
    dataset = "rounds"
    handlers = {
        "round.opened": "opening",
        "round.ballot_cast": "handed_in",
        "round.ballot_changed": "handed_in",
        "round.ballot_recorded_by_clerk": "handed_in",
        "round.closed": "closing",
    }

    def handed_in(self, one: Decided, entry: dict, payload: dict) -> None:
        voter = payload.get("voter")
        if type(voter) is not str:
            one.before_audit, voter = True, None
        one.voters.add(voter)
        if one.secret:
            own = entry["action"] != "round.ballot_recorded_by_clerk"  # a clerk acts by name
            if (
                (own and entry.get("actor") is not None)
                or "approved" in payload
                or ("member" in payload)
            ):
                one.problems.append(
                    Msg(
                        "names_voter",
                        subject=self.name(one),
                        index=entry.get("index"),
                        action=entry["action"],
                    )
                )
        else:
            one.votes[voter] = payload.get("approved")

    def prepare(self) -> None:
        self.rows = self.open_data.by_id("rounds", "round_id")
        self.lists = self.open_data.grouped("round_receipts", "round_id")
        self.projects = self.open_data.grouped("round_projects", "round_id")

    def slate(self, one: Decided) -> tuple[list[int], list[Fraction], Fraction] | None:
        """The slate's proposal ids, their costs and the money, if the opening entry gives
        them whole."""
        opened = one.opened
        slate, costs = opened.get("slate"), opened.get("costs")
        money = _yuan(opened.get("money"))
        if not (isinstance(slate, list) and isinstance(costs, list) and money is not None):
            return None
        costs = [_yuan(cost) for cost in costs]
        if (
            len(costs) != len(slate)
            or not all(type(pk) is int for pk in slate)
            or len(set(slate)) != len(slate)
            or any(cost is None or cost <= 0 for cost in costs)
        ):
            return None
        return slate, costs, money

    def check(self, one: Decided) -> list[Msg]:
        problems: list[Msg] = []
        opened, closed, name = one.opened, one.closed, self.name(one)
        rules = opened.get("rules")
        if not isinstance(rules, dict) or "costs" not in opened:
            self.note(one, "why_before_audit")
            return problems
        slate = self.slate(one)
        numerator, denominator = rules.get("quorum_numerator"), rules.get("quorum_denominator")
        rule, add1 = opened.get("rule"), opened.get("add1")
        if not (
            slate is not None
            and _count(one.base)
            and _count(numerator)
            and type(denominator) is int
            and 0 < numerator <= denominator
            and type(rule) is str
            and type(add1) is bool
            and (rule, add1) in ROUND_RULES
        ):
            return [Msg("malformed", subject=name, opened=one.opened_at, closed=one.closed_at)]
        pks, costs, money = slate
        number = {pk: p for p, pk in enumerate(pks)}
        row = self.rows.get(one.id)
        if row is None:
            problems.append(
                Msg("not_published", subject=name, index=one.closed_at, dataset="rounds")
            )
        # The approval ballots: the published list, whose SHA-256 the closing entry seals.
        if row is not None and row.get("votes_format") == "receipts":
            lines = [
                (line.get("commitment"), line.get("approved"))
                for line in self.lists.get(one.id, [])
            ]
            digest = round_list_sha256(one.id, lines)
            if digest != closed.get("votes_sha256"):
                problems.append(
                    Msg(
                        "list_sha256",
                        subject=name,
                        dataset="round_receipts",
                        got=digest,
                        want=_shown(closed.get("votes_sha256")),
                        index=one.closed_at,
                    )
                )
            texts = [approved for _commitment, approved in lines]
        elif not one.secret and not one.before_audit:
            texts = [_approved_text(approved) for approved in one.votes.values()]
            if row is not None:
                self.note(one, "why_before_receipts")
        else:
            self.note(one, "why_no_ballots")
            return problems
        ballots = []
        for text in texts:
            ids = _approved_ids(text)
            if ids is None or any(pk not in number for pk in ids):
                problems.append(Msg("unknown_project", subject=name, approved=_shown(text)))
                continue
            ballots.append({number[pk] for pk in ids})
        if not one.before_audit:
            if len(one.voters) != len(texts):
                problems.append(
                    Msg("list_voters_round", subject=name, rows=len(texts), voters=len(one.voters))
                )
            elif not one.secret and sorted(map(str, texts)) != sorted(
                _approved_text(approved) for approved in one.votes.values()
            ):
                problems.append(Msg("list_ballots", subject=name))
        # The result, recomputed.
        participation = len(texts)
        valid = participation * denominator >= numerator * one.base
        approvals = [0] * len(pks)
        for ballot in ballots:
            for p in ballot:
                approvals[p] += 1
        if not valid:
            funded = []
        elif rule == "greedy":
            funded = fund_greedy(costs, ballots, money)
        else:
            funded = fund_equal_shares(costs, ballots, money, "add1" if add1 else "none")
        spent = sum((costs[p] for p in funded), Fraction(0))
        funded_pks = [pks[p] for p in funded]
        where = Msg("where_closing", index=one.closed_at)
        recomputed = {
            "participation": participation,
            "base": one.base,
            "valid": valid,
            "funded": funded_pks,
            "approvals": {str(pk): approvals[p] for p, pk in enumerate(pks)},
            "votes_sha256": closed.get("votes_sha256"),
        }
        for key, value in recomputed.items():
            if key in closed and closed[key] != value:
                what = (
                    Msg("field_funded", rule=Msg(ROUND_RULES[rule, add1]))
                    if key == "funded"
                    else Msg(f"field_{key}")
                )
                problems.append(self.differs(one, what, where, closed[key], value))
        for key, value in (("spent", spent), ("money", money)):
            if key in closed and _yuan(closed[key]) != value:
                problems.append(
                    self.differs(one, Msg(f"field_{key}"), where, closed[key], f"{value:.2f}")
                )
        if row is None:
            return problems
        where = Msg("where_open_data", dataset="rounds")
        published = {
            "participation": participation,
            "base": one.base,
            "outcome": "decided" if valid else "invalid",
            "rule": rule,
            "quorum": f"{numerator}/{denominator}",
            "secrecy": rules.get("secrecy"),
            "votes_sha256": closed.get("votes_sha256"),
        }
        if "completion" in row:
            published["completion"] = ("add1" if add1 else "none") if rule == "mes" else ""
        for key, value in published.items():
            if row.get(key) != value:
                problems.append(self.differs(one, Msg(f"field_{key}"), where, row.get(key), value))
        for key, value in (("spent", spent), ("money", money)):
            if _yuan(row.get(key)) != value:
                problems.append(
                    self.differs(one, Msg(f"field_{key}"), where, row.get(key), f"{value:.2f}")
                )
        where = Msg("where_open_data", dataset="round_projects")
        shown = {
            row["proposal_id"]: row
            for row in self.projects.get(one.id, [])
            if type(row.get("proposal_id")) is int
        }
        if set(shown) != set(pks):
            problems.append(self.differs(one, Msg("field_slate"), where, sorted(shown), pks))
        funded_set = set(funded)
        for p, pk in enumerate(pks):
            project = shown.get(pk)
            if project is None:
                continue
            expected = {
                "position": p + 1,
                "cost": costs[p],
                "approvals": approvals[p],
                "funded": ("yes" if p in funded_set else "no") if valid else "undecided",
            }
            for key, value in expected.items():
                got = _yuan(project.get(key)) if key == "cost" else project.get(key)
                if got != value:
                    what = Msg("field_project", project=pk, what=Msg(f"field_project_{key}"))
                    value = f"{value:.2f}" if key == "cost" else value
                    problems.append(self.differs(one, what, where, project.get(key), value))
        return problems

    def summarise(self, closed: int, still_open: int) -> None:
        self.result.summary = Msg("rounds_summary", closed=closed, open=still_open)


def _approved_text(approved: object) -> str:
    """Approved ids as the published lists write them: ascending, comma-separated."""
    if not isinstance(approved, list) or not all(type(pk) is int for pk in approved):
        return _shown(approved)
    return ",".join(str(pk) for pk in sorted(set(approved)))


def _approved_ids(text: object) -> list[int] | None:
    """The ids of a published ``approved`` ("4,9", or "" for none) if written as the lists
    write them (ascending, no repeat), else None."""
    if type(text) is not str or not re.fullmatch(r"([0-9]{1,18}(,[0-9]{1,18})*)?", text):
        return None
    ids = [int(pk) for pk in text.split(",")] if text else []
    return ids if ids == sorted(set(ids)) else None


# --------------------------------------------------------------------------------------------
# The site: HTTP, the log's files, a cache of tiles
# --------------------------------------------------------------------------------------------

CHECKPOINT_LIMIT = 1 << 16
KEY_LIMIT = 1 << 16
LOOKUP_LIMIT = 1 << 12
TILE_LIMIT = 1 << 16  # larger than a tile, so that a tile too large is named as such
BUNDLE_LIMIT = TILE_WIDTH * (2 + 0xFFFF)
OPEN_DATA_LIMIT = 1 << 30  # a district's open data over years: a few hundred MB at most
DOWNLOAD_THREADS = 4
DOWNLOAD_AHEAD = 16  # bundles fetched ahead of the one being checked


class Site:
    """The site's address and the log's files under ``/log/`` (fetched with urllib, tiles
    and bundles cached for the run)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        try:
            parts = urllib.parse.urlsplit(url.strip())
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            valid = False
        if not valid:
            raise CannotCheck("url_bad", url=url)
        path = parts.path.rstrip("/")
        self.root = f"{parts.scheme}://{parts.netloc}{path}/"
        self.base = f"{self.root}log/"
        self.origin = f"{parts.netloc}{path}/log"
        self.timeout = timeout
        self.tiles: dict[tuple[int, int, int], bytes] = {}
        self.opener = urllib.request.build_opener()
        self.opener.addheaders = [("User-Agent", f"weishi-verify/{VERSION}")]
        self.scheme, self.netloc = parts.scheme, parts.netloc
        # One kept-alive connection per download thread: a million entries are 3,900 bundles,
        # and a TLS handshake for each would cost more than checking them.
        self._local = threading.local()

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, limit: int, missing_ok: bool = False) -> bytes | None:
        """The file at ``path`` under ``/log/`` (at most ``limit`` bytes, else ``CannotCheck``);
        None when it is missing (404) and ``missing_ok``."""
        return self.fetch(self.url(path), limit, missing_ok)

    def open_data(self, name: str) -> list[dict]:
        """The rows of the open data file ``/open-data/<name>.json`` (``{"rows": [...]}``,
        each row an object); ``VerificationFailed`` naming the file if it is not that."""
        url = f"{self.root}open-data/{name}.json"
        data = self.fetch(url, OPEN_DATA_LIMIT) or b""
        try:
            rows = _DECODER.decode(data.decode("utf-8"))["rows"]
        except (UnicodeDecodeError, ValueError, TypeError, KeyError):
            rows = None
        if not isinstance(rows, list) or not all(type(row) is dict for row in rows):
            raise VerificationFailed("open_data_malformed", url=url)
        return rows

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            root = urllib.parse.urlsplit(self.root)
            host, port = root.hostname, root.port
            if self.scheme == "https":
                connection = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self._local.connection = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def fetch(self, url: str, limit: int, missing_ok: bool = False) -> bytes | None:
        """The file at ``url`` (at most ``limit`` bytes, else ``CannotCheck``); None when it is
        missing (404) and ``missing_ok``. Files of the site itself come over a kept-alive
        connection; a redirect, or anything else, through urllib."""
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme, parts.netloc) != (self.scheme, self.netloc):
            return self._fetch_urllib(url, limit, missing_ok)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.request(
                    "GET", target, headers={"User-Agent": f"weishi-verify/{VERSION}"}
                )
                response = connection.getresponse()
                data = response.read(limit + 1)
                status = response.status
                if len(data) > limit or response.will_close:
                    self._drop_connection()
                break
            except (OSError, http.client.HTTPException, ValueError) as error:
                self._drop_connection()
                if attempt == 1 and isinstance(error, http.client.RemoteDisconnected | OSError):
                    continue  # a kept-alive connection the server had closed: once more
                return self._fetch_urllib(url, limit, missing_ok)
        if 300 <= status < 400:
            return self._fetch_urllib(url, limit, missing_ok)
        if status == 404 and missing_ok:
            return None
        if status != 200:
            raise CannotCheck("http_error", url=url, status=status)
        if len(data) > limit:
            raise CannotCheck("too_big", url=url, limit=limit)
        return data

    def _fetch_urllib(self, url: str, limit: int, missing_ok: bool = False) -> bytes | None:
        try:
            with self.opener.open(url, timeout=self.timeout) as response:
                data = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            if error.code == 404 and missing_ok:
                return None
            raise CannotCheck("http_error", url=url, status=error.code) from None
        except urllib.error.URLError as error:
            raise CannotCheck("unreachable", url=url, reason=_reason(error.reason)) from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise CannotCheck("unreachable", url=url, reason=_reason(error)) from None
        if len(data) > limit:
            raise CannotCheck("too_big", url=url, limit=limit)
        return data

    def _get_tile(self, level: int | str, n: int, width: int, limit: int) -> tuple[str, bytes, int]:
        """The tile's path, bytes and width as served: a partial tile that is missing (404)
        is read from the full tile it became, as C2SP tlog-tiles allows a log to do."""
        path = tile_path(level, n, width)
        data = self.get(path, limit, missing_ok=width < TILE_WIDTH)
        if data is not None:
            return path, data, width
        full = tile_path(level, n, TILE_WIDTH)
        data = self.get(full, limit, missing_ok=True)
        if data is None:
            raise CannotCheck("http_error", url=self.url(path), status=404)
        return full, data, TILE_WIDTH

    def read_tile(self, level: int, n: int, width: int) -> bytes:
        """A hash tile: exactly ``width`` hashes (fetched once a run); ``VerificationFailed``
        naming it if it is not ``width`` * 32 bytes."""
        key = (level, n, width)
        data = self.tiles.get(key)
        if data is None:
            path, data, served = self._get_tile(level, n, width, TILE_LIMIT)
            if len(data) != served * HASH_SIZE:
                raise VerificationFailed(
                    "tile_size", path=path, got=len(data), want=served * HASH_SIZE, count=served
                )
            data = self.tiles[key] = data[: width * HASH_SIZE]
        return data

    def read_bundle(self, n: int, width: int) -> list[bytes]:
        """The ``width`` entries of entry bundle ``n``; ``VerificationFailed`` naming it if it
        does not hold exactly that many."""
        path, data, served = self._get_tile("entries", n, width, BUNDLE_LIMIT)
        return parse_entry_bundle(data, served, path)[:width]

    def bundles(self, size: int) -> Iterator[tuple[int, list[bytes]]]:
        """Every entry bundle of the tree of ``size`` leaves, in order, downloaded a few at a
        time ahead by a small pool of threads."""
        count = (size + TILE_WIDTH - 1) // TILE_WIDTH
        with concurrent.futures.ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            pending: collections.deque[concurrent.futures.Future] = collections.deque()
            submitted = 0
            try:
                for n in range(count):
                    while submitted < count and submitted < n + DOWNLOAD_AHEAD:
                        width = tile_width(0, submitted, size)
                        pending.append(pool.submit(self.read_bundle, submitted, width))
                        submitted += 1
                    yield n, pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()


_REASONS = {  # the common causes, said in the reader's words
    socket.gaierror: "reason_no_such_host",
    TimeoutError: "reason_timeout",
    ConnectionRefusedError: "reason_refused",
    ConnectionResetError: "reason_reset",
    FileNotFoundError: "reason_no_file",
    IsADirectoryError: "reason_directory",
    PermissionError: "reason_permission",
}


def _reason(error: object) -> Msg | str:
    """Why a file or the network failed, in plain words where the cause is a common one."""
    for kind, key in _REASONS.items():
        if isinstance(error, kind):
            return Msg(key)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return (str(error) or type(error).__name__).strip().rstrip(".")


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


class Output:
    """Prints the checker's lines in the reader's language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def say(self, key: str, **params: object) -> None:
        print(Msg(key, **params).render(self.lang), flush=True)

    def line(self, msg: Msg) -> None:
        print(msg.render(self.lang), flush=True)

    def error(self, msg: Msg) -> None:
        print("✗ " + msg.render(self.lang), file=sys.stderr, flush=True)

    def detail(self, msg: Msg) -> None:
        """A line explaining the error printed just before (on the same stream)."""
        print(msg.render(self.lang), file=sys.stderr, flush=True)


def _time_text(timestamp: int) -> str:
    try:
        when = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).astimezone()
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    return when.isoformat(timespec="seconds")


def _keys(site: Site, args: argparse.Namespace, out: Output) -> tuple[list, list, int]:
    """The log keys, witness keys and minimum of witnesses: the ones given, or the site's."""
    log_keys = []
    if args.log_key:
        key = parse_verifier_key(args.log_key)
        if key.kind != KEY_ED25519:
            raise CannotCheck("key_malformed", key=args.log_key, detail=Msg("key_not_log"))
        log_keys = [key]
    witness_keys = []
    for text in args.witness_key:
        key = parse_verifier_key(text)
        if key.kind != KEY_COSIGNATURE:
            raise CannotCheck("key_malformed", key=text, detail=Msg("key_not_witness"))
        witness_keys.append(key)
    if log_keys:
        out.say("key_pinned", name=log_keys[0].name, key_id=log_keys[0].key_id.hex())
    else:
        url = site.url("key")
        out.say("key_from_site", url=url)
        listed = (site.get("key", KEY_LIMIT) or b"").decode("utf-8", "replace")
        site_witnesses = []
        for line in listed.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                key = parse_verifier_key(line)
            except CannotCheck as error:
                raise VerificationFailed(
                    "site_key_malformed", url=url, line=line[:80], detail=error.msg.params["detail"]
                ) from None
            (log_keys if key.kind == KEY_ED25519 else site_witnesses).append(key)
        if not log_keys:
            raise VerificationFailed("site_key_missing", url=url)
        if not witness_keys:
            witness_keys = site_witnesses
    minimum = len(witness_keys) if args.min_witnesses is None else args.min_witnesses
    if minimum > len(witness_keys):
        raise CannotCheck(
            "usage", detail=Msg("usage_min_witnesses", min=minimum, count=len(witness_keys))
        )
    return log_keys, witness_keys, minimum


def check_current(site: Site, args: argparse.Namespace, out: Output) -> VerifiedCheckpoint:
    """Fetch ``/log/checkpoint`` and verify it: the log's signature, the witnesses'."""
    log_keys, witness_keys, minimum = _keys(site, args, out)
    note = site.get("checkpoint", CHECKPOINT_LIMIT) or b""
    verified = verify_checkpoint(note, log_keys, witness_keys, minimum)
    cp = verified.checkpoint
    out.say("checkpoint_ok", origin=cp.origin, size=cp.size, root=cp.root.hex())
    if cp.origin != site.origin:
        out.say("origin_other", origin=cp.origin, expected=site.origin)
    for name, timestamp in verified.cosigned.items():
        out.say("witness_ok", name=name, time=_time_text(timestamp))
    for name in verified.absent:
        out.say("witness_absent", name=name)
    if witness_keys:
        out.say("witnesses_ok", count=len(verified.cosigned), min=minimum)
    else:
        out.say("no_witnesses")
    return verified


def _read(filename: str, limit: int | None = None) -> bytes:
    try:
        with open(filename, "rb") as file:
            return file.read(-1 if limit is None else limit)
    except OSError as error:
        raise CannotCheck("file_unreadable", file=filename, reason=_reason(error)) from None


def read_pdf(filename: str) -> bytes:
    """The PDF file's bytes; ``CannotCheck`` if it cannot be read or is no PDF."""
    data = _read(filename)
    if b"%PDF-" not in data[:1024]:  # PDF readers accept the header within the first 1024 bytes
        raise CannotCheck("not_pdf", file=filename)
    return data


def read_saved_checkpoint(filename: str) -> bytes:
    """The saved checkpoint note; ``CannotCheck`` if it cannot be read or is no checkpoint
    (its signature is checked once the log's key is known)."""
    note = _read(filename, CHECKPOINT_LIMIT)
    try:
        parse_checkpoint(open_signed_note(note, []).text)
    except VerificationFailed as error:
        raise CannotCheck(
            "saved_malformed", file=filename, detail=error.msg.params["detail"]
        ) from None
    return note


def check_pdf(
    site: Site,
    current: VerifiedCheckpoint,
    filename: str,
    data: bytes,
    args: argparse.Namespace,
    out: Output,
) -> VerifiedCheckpoint:
    """The PDF is in the log: its entry records its hash and is included under the root.
    Return the checkpoint checked against (a newer one if the entry came after ``current``)."""
    sha = _sha256(data).hexdigest()
    out.say("pdf_hash", file=filename, sha=sha)
    lookup_path = f"lookup?sha256={sha}"
    answer = site.get(lookup_path, LOOKUP_LIMIT, missing_ok=True)
    if answer is None:
        raise VerificationFailed("not_in_log", sha=sha)
    try:
        index = json.loads(answer)["index"]
    except (ValueError, TypeError, KeyError):
        index = None
    if type(index) is not int or index < 0:
        raise VerificationFailed("lookup_malformed", url=site.url(lookup_path))
    cp = current.checkpoint
    if index >= cp.size:
        time.sleep(3)  # the log signs a new checkpoint within two seconds of an entry
        current = check_current(site, args, out)
        cp = current.checkpoint
        if index >= cp.size:
            raise CannotCheck("not_yet", index=index, size=cp.size)
    n, offset = divmod(index, TILE_WIDTH)
    raw = site.read_bundle(n, tile_width(0, n, cp.size))[offset]
    entry = parse_entry(raw)
    if entry is None:
        raise VerificationFailed("entry_not_object", index=index)
    if entry.get("index") != index or type(entry.get("index")) is not int:
        raise VerificationFailed("entry_index", index=index, claimed=entry.get("index"))
    payload = entry.get("payload") if isinstance(entry.get("payload"), dict) else {}
    recorded = payload.get("pdf_sha256")
    if not isinstance(recorded, str):
        action = _shown(entry.get("action"))
        raise VerificationFailed("pdf_not_recorded", index=index, action=action, sha=sha)
    if recorded.lower() != sha:
        raise VerificationFailed("pdf_mismatch", index=index, recorded=_shown(recorded), sha=sha)
    out.say("pdf_entry", index=index)
    out.say("entry_action", value=_shown(entry.get("action")))
    out.say("entry_object", value=_shown(entry.get("object")))
    out.say("entry_time", value=_shown(entry.get("time")))
    out.say("entry_content", value=_shown(payload.get("content_sha256")))
    proof = inclusion_proof_from_tiles(index, cp.size, site.read_tile)
    verify_inclusion(index, cp.size, leaf_hash(raw), proof, cp.root)
    out.say("pdf_included")
    return current


def _shown(value: object) -> str:
    """A value of an entry as one printable line."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in text)[:200]


def check_since(
    site: Site, current: VerifiedCheckpoint, filename: str, saved_note: bytes, out: Output
) -> None:
    """Today's log extends the saved checkpoint: same log, not smaller, consistent."""
    try:
        opened = open_signed_note(saved_note, [current.log_key])
    except VerificationFailed:  # its signature by the log's key does not hold
        raise VerificationFailed("saved_not_signed", file=filename) from None
    saved = parse_checkpoint(opened.text)
    if not any(s.key == current.log_key for s in opened.signatures):
        raise VerificationFailed("saved_not_signed", file=filename)
    now = current.checkpoint
    if saved.origin != now.origin:
        raise VerificationFailed("since_other_log", old=saved.origin, new=now.origin)
    if saved.size > now.size:
        raise VerificationFailed("log_shrank", old=saved.size, new=now.size)
    if saved.size == now.size:
        if saved.root != now.root:
            raise VerificationFailed("log_forked", size=now.size)
        out.say("since_same", size=now.size)
        return
    proof = consistency_proof_from_tiles(saved.size, now.size, site.read_tile)
    verify_consistency(saved.size, now.size, saved.root, now.root, proof)
    out.say("since_ok", old=saved.size, new=now.size, added=now.size - saved.size)


def bundle_check(
    first: int, entries: list[bytes], whole: frozenset[str] | None
) -> tuple[bytes, list[Msg], list[dict | None]]:
    """One entry bundle's own checks, the entries from ``first`` on: the root of its leaves (a
    complete subtree; the last bundle's: its MTH), the problems found (an entry that is not a
    JSON object, not at its index, or not canonical), and the entries parsed for the
    recomputations: whole if ``whole`` is None or names their action, else only their index,
    object and action. A pure function, run in the audit's worker processes."""
    sha, scan = _sha256, _DECODER.scan_once
    problems: list[Msg] = []
    root = root_from_leaves([sha(b"\x00" + e).digest() for e in entries])
    parsed: list[dict | None] = []
    whole_bundle = True
    for offset, raw in enumerate(entries):
        try:
            text = raw.decode("utf-8")
            value, end = scan(text, 0)
            if end != len(text) or type(value) is not dict:
                value = None
        except (UnicodeDecodeError, ValueError, StopIteration):
            value = None
        if value is None:
            whole_bundle = False
            problems.append(Msg("entry_not_object", index=first + offset))
        elif value.get("index") != first + offset or type(value["index"]) is not int:
            problems.append(Msg("entry_index", index=first + offset, claimed=value.get("index")))
        parsed.append(value)
    # One encoding of the whole bundle: equal to the entries joined with commas only if each
    # entry is canonical (an entry that is one JSON object cannot run into the next); only
    # when it is not is each entry encoded on its own to name it.
    if not (whole_bundle and _is_canonical(b"[" + b",".join(entries) + b"]", parsed)):
        for offset, (raw, value) in enumerate(zip(entries, parsed, strict=True)):
            if value is not None and not _is_canonical(raw, value):
                problems.append(Msg("entry_not_canonical", index=first + offset))
    if whole is not None:
        parsed = [
            value
            if value is None or value.get("action") in whole
            else {"index": value.get("index"), "object": value.get("object"),
                  "action": value.get("action")}
            for value in parsed
        ]  # fmt: skip
    return root, problems, parsed


# An audit of at least this many bundles spreads their checks over the cores.
PARALLEL_BUNDLES = 64


def audit_jobs(asked: int | None, bundles: int) -> int:
    """How many worker processes check the bundles: ``asked`` (``--jobs``), else one per core
    for a log of ``PARALLEL_BUNDLES`` bundles or more; 1 (none: all in this process) where the
    system cannot fork (Windows, macOS) or the log is small."""
    if sys.platform != "linux":
        return 1
    if asked is not None:
        return max(1, asked)
    if bundles < PARALLEL_BUNDLES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, 8))


_WORKER_SITE: Site | None = None


def _worker_start(site: Site) -> None:
    """A worker process's start: the site to fetch from, with connections of its own (the
    forked copy of the parent's must never be used), and no cyclic garbage collector."""
    global _WORKER_SITE
    site._local = threading.local()
    site.tiles = {}
    _WORKER_SITE = site
    gc.disable()


def _bundle_fetched_checked(
    n: int, size: int, whole: frozenset[str] | None
) -> tuple[bytes, list[Msg], list[dict | None]]:
    """Entry bundle ``n`` of the tree of ``size`` leaves, fetched and checked in a worker."""
    entries = _WORKER_SITE.read_bundle(n, tile_width(0, n, size))
    return bundle_check(n * TILE_WIDTH, entries, whole)


def _checked_bundles(
    site: Site, size: int, whole: frozenset[str] | None, jobs: int
) -> Iterator[tuple[int, tuple[bytes, list[Msg], list[dict | None]]]]:
    """``(first index, bundle_check(...))`` for every bundle in order: fetched and checked
    here, or by ``jobs`` worker processes, each fetching its bundles over its own connection
    (downloading and checking both cost the processor: TLS, hashing, parsing)."""
    if jobs <= 1:
        # Every entry whole: slimming them pays only for sending them between processes.
        for n, entries in site.bundles(size):
            yield n * TILE_WIDTH, bundle_check(n * TILE_WIDTH, entries, None)
        return
    import multiprocessing

    count = (size + TILE_WIDTH - 1) // TILE_WIDTH
    with concurrent.futures.ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_start,
        initargs=(site,),
    ) as pool:
        pending: collections.deque = collections.deque()
        try:
            for n in range(count):
                pending.append(pool.submit(_bundle_fetched_checked, n, size, whole))
                if len(pending) > 4 * jobs:
                    first = (n - len(pending) + 1) * TILE_WIDTH
                    yield first, pending.popleft().result()
            while pending:
                first = (count - len(pending)) * TILE_WIDTH
                yield first, pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def audit(
    site: Site,
    current: VerifiedCheckpoint,
    out: Output,
    recomputations: Iterable[type[Recomputation]] = (),
    limit: int = 20,
    jobs: int | None = None,
) -> int:
    """Download every entry, check each bundle's size, each entry's index and canonical
    encoding, rebuild the root and compare it with the checkpoint's, and run the
    recomputations; print each problem (the first ``limit``) and return how many there were.
    A bundle of the wrong size stops the audit (``VerificationFailed``). The bundles' own
    checks run in ``audit_jobs(jobs, …)`` processes."""
    cp = current.checkpoint
    running = [cls() for cls in recomputations]
    for running_one in running:
        running_one.site = site
    wanted = [running_one.whole for running_one in running]
    whole = None if None in wanted else frozenset().union(*wanted)
    problems: list[Msg] = []
    count = 0
    subtree_roots = []  # one per bundle: its 256 leaves are a complete subtree (the last: MTH)
    jobs = audit_jobs(jobs, (cp.size + TILE_WIDTH - 1) // TILE_WIDTH)
    with _without_cyclic_gc():
        for first, (root, found, parsed) in _checked_bundles(site, cp.size, whole, jobs):
            subtree_roots.append(root)
            count += len(found)
            problems.extend(found[: max(0, limit - len(problems))])
            for running_one in running:
                running_one.feed(first, parsed)
    root = root_from_leaves(subtree_roots)
    if count == 0:
        out.say("audit_entries_ok", size=cp.size, bundles=len(subtree_roots))
    for msg in problems:
        out.error(msg)
    if count > len(problems):
        out.say("problems_more", count=count - len(problems))
    if root == cp.root:
        out.say("audit_root_ok")
    else:
        count += 1
        out.error(Msg("audit_root", size=cp.size, got=root.hex(), want=cp.root.hex()))
    for running_one in running:
        with _without_cyclic_gc():  # the open data's rows: as many short-lived dicts
            result = running_one.finish()
        title = Msg(running_one.title)
        if result.failed:
            count += result.failed
            out.error(
                Msg("recompute_failed", title=title, checked=result.checked, failed=result.failed)
            )
            for msg in result.problems:
                out.detail(msg)
            if result.more:
                out.detail(Msg("problems_more", count=result.more))
        else:
            out.say("recompute_ok", title=title, checked=result.checked)
        if result.summary is not None:
            out.line(result.summary)
        for msg in result.notes:
            out.line(msg)
    return count


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: among a million short-lived dicts, which form no
    cycles, it would only cost time (reference counting frees them all the same)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def save_checkpoint(current: VerifiedCheckpoint, filename: str, out: Output) -> None:
    """Write the verified checkpoint, byte for byte as signed, to ``filename``."""
    try:
        temporary = f"{filename}.tmp{os.getpid()}"
        with open(temporary, "wb") as file:
            file.write(current.note)
        os.replace(temporary, filename)
    except OSError as error:
        raise CannotCheck("file_unwritable", file=filename, reason=_reason(error)) from None
    out.say("saved", file=filename)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CannotCheck("usage", detail=message.rstrip("."))


def _language(argv: list[str]) -> str:
    """The --lang asked for, found before the full parse so that its errors are in it."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGS else "zh"
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1] if arg.split("=", 1)[1] in LANGS else "zh"
    return "zh"


def _parser(lang: str) -> argparse.ArgumentParser:
    def h(key: str) -> str:
        return Msg(key).render(lang).replace("%", "%%")

    parser = _Parser(prog="weishi_verify.py", description=h("help_description"))
    parser.add_argument("site_url", metavar="SITE_URL", help=h("help_site"))
    parser.add_argument("--log-key", metavar="VKEY", help=h("help_log_key"))
    parser.add_argument(
        "--witness-key", metavar="VKEY", action="append", default=[], help=h("help_witness_key")
    )
    parser.add_argument("--min-witnesses", metavar="N", type=int, help=h("help_min_witnesses"))
    parser.add_argument("--pdf", metavar="FILE", help=h("help_pdf"))
    parser.add_argument("--since", metavar="CHECKPOINT_FILE", help=h("help_since"))
    parser.add_argument("--audit", action="store_true", help=h("help_audit"))
    parser.add_argument("--jobs", metavar="N", type=int, help=h("help_jobs"))
    parser.add_argument("--checkpoint-out", metavar="FILE", help=h("help_checkpoint_out"))
    parser.add_argument("--lang", default="zh", help=h("help_lang"))
    return parser


def run(argv: list[str], out: Output) -> int:
    """Parse the command line and run the checks; raise ``CheckError`` on the first that
    cannot be passed; return the exit status."""
    args = _parser(out.lang).parse_args(argv)
    if args.lang not in LANGS:
        raise CannotCheck("usage", detail=Msg("usage_lang"))
    modes = [m for m in (args.pdf, args.since, args.audit or None) if m is not None]
    if len(modes) > 1:
        raise CannotCheck("usage", detail=Msg("usage_modes"))
    if not modes and not args.checkpoint_out:
        raise CannotCheck("usage", detail=Msg("usage_mode"))
    if args.min_witnesses is not None and args.min_witnesses < 0:
        raise CannotCheck(
            "usage",
            detail=Msg("usage_min_witnesses", min=args.min_witnesses, count=len(args.witness_key)),
        )
    if Ed25519PublicKey is None:
        raise CannotCheck("no_cryptography")
    site = Site(args.site_url)
    # What is on the reader's own disk is checked before anything is fetched.
    pdf = read_pdf(args.pdf) if args.pdf is not None else b""
    saved = read_saved_checkpoint(args.since) if args.since is not None else b""
    current = check_current(site, args, out)
    if args.pdf is not None:
        current = check_pdf(site, current, args.pdf, pdf, args, out)
    elif args.since is not None:
        check_since(site, current, args.since, saved, out)
    elif args.audit:
        problems = audit(site, current, out, RECOMPUTATIONS, jobs=args.jobs)
        if problems:
            raise VerificationFailed("audit_failed", count=problems)
    if args.checkpoint_out:
        save_checkpoint(current, args.checkpoint_out, out)
    out.say("all_ok")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the checker on ``argv`` (default: the command line) and return its exit status:
    0 every check holds, 1 a check failed, 2 the check could not be made. Never raises."""
    argv = sys.argv[1:] if argv is None else list(argv)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # a console that cannot show 中文 or ✓ gets '?'
    out = Output(_language(argv))
    try:
        return run(argv, out)
    except CheckError as error:
        out.error(error.msg)
        return error.exit_code
    except KeyboardInterrupt:
        out.error(Msg("interrupted"))
        return 2
    except BrokenPipeError:
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    except Exception as error:  # a bug of the checker: one line, never a traceback
        out.error(Msg("internal", detail=f"{type(error).__name__}: {error}"[:300]))
        return 2


if __name__ == "__main__":
    sys.exit(main())
