"""Boxes and points are found in the answer shapes the Qwen models really produce."""

from __future__ import annotations

from vldesk.core.grounding import Detection, parse_detections


def test_json_in_a_code_fence_with_several_objects_and_chinese_labels() -> None:
    answer = (
        "好的，这是检测结果：\n```json\n[\n"
        '  {"bbox_2d": [12, 30, 200, 180], "label": "红色汽车"},\n'
        '  {"bbox_2d": [220, 40, 390, 300], "label": "行人"}\n'
        "]\n```"
    )
    assert parse_detections(answer) == [
        Detection("红色汽车", box=(12.0, 30.0, 200.0, 180.0)),
        Detection("行人", box=(220.0, 40.0, 390.0, 300.0)),
    ]


def test_a_truncated_answer_keeps_its_complete_objects() -> None:
    answer = (
        '```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "cup"}, '
        '{"bbox_2d": [5, 6, 7, 8], "label": "plate"}, {"bbox_2d": [9, 10, 1'
    )
    assert [d.label for d in parse_detections(answer)] == ["cup", "plate"]


def test_points_and_boxes_mix() -> None:
    answer = '[{"point_2d": [410, 220], "label": "eye"}, {"bbox": [5, 5, 50, 60], "label": "face"}]'
    assert parse_detections(answer) == [
        Detection("eye", point=(410.0, 220.0)),
        Detection("face", box=(5.0, 5.0, 50.0, 60.0)),
    ]


def test_corners_in_any_order_become_left_top_right_bottom() -> None:
    (detection,) = parse_detections('{"bbox_2d": [300, 400, 100, 50], "label": "dog"}')
    assert detection.box == (100.0, 50.0, 300.0, 400.0)


def test_objects_nested_in_a_wrapper_are_found() -> None:
    answer = '{"objects": [{"bbox_2d": [1, 1, 9, 9], "label": "a"}, {"label": "no box"}]}'
    assert parse_detections(answer) == [Detection("a", box=(1.0, 1.0, 9.0, 9.0))]


def test_qwen2_5_special_token_spans() -> None:
    answer = (
        "<|object_ref_start|>the red car<|object_ref_end|>"
        "<|box_start|>(10,20),(110,220)<|box_end|> and "
        "<|object_ref_start|>两只猫<|object_ref_end|>"
        "<|box_start|>(1, 2),(3, 4)<|box_end|><|box_start|>(5,6),(7,8)<|box_end|>"
    )
    assert parse_detections(answer) == [
        Detection("the red car", box=(10.0, 20.0, 110.0, 220.0)),
        Detection("两只猫", box=(1.0, 2.0, 3.0, 4.0)),
        Detection("两只猫", box=(5.0, 6.0, 7.0, 8.0)),
    ]


def test_an_answer_without_locations_gives_nothing() -> None:
    assert parse_detections('A cat on a sofa. {"label": "cat"} [1, 2, 3, 4]') == []
    assert parse_detections('{"bbox_2d": [1, 2, "x", 4], "label": "bad"}') == []
