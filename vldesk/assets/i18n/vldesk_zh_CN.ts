<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
    <context>
        <name>AboutDialog</name>
        <message>
            <source>About vldesk</source>
            <translation>关于 vldesk</translation>
        </message>
        <message>
            <source>Understand images offline with local Qwen vision-language models.</source>
            <translation>使用本地 Qwen 视觉语言模型离线理解图片。</translation>
        </message>
        <message>
            <source>Versions</source>
            <translation>版本</translation>
        </message>
        <message>
            <source>CUDA (PyTorch build)</source>
            <translation>CUDA（PyTorch 构建）</translation>
        </message>
        <message>
            <source>Where files are stored</source>
            <translation>文件存放位置</translation>
        </message>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>History</source>
            <translation>历史记录</translation>
        </message>
        <message>
            <source>Logs</source>
            <translation>日志</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>{0}:</source>
            <translation>{0}：</translation>
        </message>
        <message>
            <source>counting…</source>
            <translation>正在计算…</translation>
        </message>
        <message>
            <source>Disk space the models use</source>
            <translation>模型占用的磁盘空间</translation>
        </message>
        <message>
            <source>Models use:</source>
            <translation>模型占用：</translation>
        </message>
        <message>
            <source>Open &amp;Data Folder</source>
            <translation>打开数据文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Show the folder with the history in a file manager</source>
            <translation>在文件管理器中显示存放历史记录的文件夹</translation>
        </message>
        <message>
            <source>Open &amp;Models Folder</source>
            <translation>打开模型文件夹(&amp;M)</translation>
        </message>
        <message>
            <source>Show the downloaded models in a file manager</source>
            <translation>在文件管理器中显示已下载的模型</translation>
        </message>
        <message>
            <source>&amp;Copy Details</source>
            <translation>复制详情(&amp;C)</translation>
        </message>
        <message>
            <source>Copy versions and folders, e.g. for a bug report</source>
            <translation>复制版本和文件夹信息，例如用于报告问题</translation>
        </message>
    </context>
    <context>
        <name>AnswerView</name>
        <message>
            <source>Answer</source>
            <translation>回答</translation>
        </message>
        <message>
            <source>The conversation about the image; the newest answer is at the end.</source>
            <translation>关于这张图片的对话；最新的回答在末尾。</translation>
        </message>
        <message>
            <source>Copy answer</source>
            <translation>复制回答</translation>
        </message>
        <message>
            <source>Copy the last answer as Markdown (Ctrl+Shift+C)</source>
            <translation>以 Markdown 格式复制最后的回答（Ctrl+Shift+C）</translation>
        </message>
        <message>
            <source>Copy the answer</source>
            <translation>复制回答</translation>
        </message>
        <message>
            <source>Copy as alt text</source>
            <translation>复制为替代文本</translation>
        </message>
        <message>
            <source>Copy the last answer as one line of plain text (Ctrl+Alt+C)</source>
            <translation>将最后的回答复制为一行纯文本（Ctrl+Alt+C）</translation>
        </message>
        <message>
            <source>Copy the answer as alt text</source>
            <translation>将回答复制为替代文本</translation>
        </message>
        <message>
            <source>interrupted by an error</source>
            <translation>因错误中断</translation>
        </message>
        <message>
            <source>answering…</source>
            <translation>正在回答…</translation>
        </message>
        <message>
            <source>thinking… {0} s</source>
            <translation>思考中… {0} 秒</translation>
        </message>
        <message>
            <source>reading the image and the question…</source>
            <translation>正在读取图片和问题…</translation>
        </message>
        <message>
            <source>reading the image and the question… {0} s</source>
            <translation>正在读取图片和问题… {0} 秒</translation>
        </message>
        <message>
            <source>You</source>
            <translation>你</translation>
        </message>
        <message>
            <source>Answer: {0}</source>
            <translation>回答：{0}</translation>
        </message>
        <message>
            <source>The answer is complete.</source>
            <translation>回答已完成。</translation>
        </message>
    </context>
    <context>
        <name>BatchDialog</name>
        <message>
            <source>Describe Folder</source>
            <translation>描述文件夹</translation>
        </message>
        <message>
            <source>Folder</source>
            <translation>文件夹</translation>
        </message>
        <message>
            <source>The folder of images to describe</source>
            <translation>要描述的图片所在文件夹</translation>
        </message>
        <message>
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
        <message>
            <source>Choose the folder</source>
            <translation>选择文件夹</translation>
        </message>
        <message>
            <source>Include subfol&amp;ders</source>
            <translation>包含子文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Include {0} images</source>
            <translation>包含 {0} 图片</translation>
        </message>
        <message>
            <source>Images</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>&amp;Folder:</source>
            <translation>文件夹(&amp;F)：</translation>
        </message>
        <message>
            <source>Types:</source>
            <translation>类型：</translation>
        </message>
        <message>
            <source>Preset</source>
            <translation>预设</translation>
        </message>
        <message>
            <source>Your own prompt</source>
            <translation>自定义提示词</translation>
        </message>
        <message>
            <source>Prompt</source>
            <translation>提示词</translation>
        </message>
        <message>
            <source>System prompt</source>
            <translation>系统提示词</translation>
        </message>
        <message>
            <source>Optional, e.g. “Answer in French.”</source>
            <translation>可选，例如“用法语回答。”</translation>
        </message>
        <message>
            <source>Pr&amp;eset:</source>
            <translation>预设(&amp;E)：</translation>
        </message>
        <message>
            <source>&amp;Prompt:</source>
            <translation>提示词(&amp;P)：</translation>
        </message>
        <message>
            <source>S&amp;ystem prompt:</source>
            <translation>系统提示词(&amp;Y)：</translation>
        </message>
        <message>
            <source>Maximum new tokens per caption</source>
            <translation>每条描述的最大新 token 数</translation>
        </message>
        <message>
            <source>Image token budget</source>
            <translation>图像 token 预算</translation>
        </message>
        <message>
            <source>More tokens keep more detail (small text) but describe more slowly.</source>
            <translation>token 越多，保留的细节（如小字）越多，但描述越慢。</translation>
        </message>
        <message>
            <source>Auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <source>Batch size</source>
            <translation>批大小</translation>
        </message>
        <message>
            <source>Images per model call. Auto chooses from free memory; 1 shows each caption as it is written and pauses at once.</source>
            <translation>每次调用模型处理的图片数。“自动”根据可用内存选择；设为 1 时每条描述会边生成边显示，且能立即暂停。</translation>
        </message>
        <message>
            <source>Generation</source>
            <translation>生成</translation>
        </message>
        <message>
            <source>Max new &amp;tokens:</source>
            <translation>最大新 token 数(&amp;T)：</translation>
        </message>
        <message>
            <source>&amp;Image token budget:</source>
            <translation>图像 token 预算(&amp;I)：</translation>
        </message>
        <message>
            <source>B&amp;atch size:</source>
            <translation>批大小(&amp;A)：</translation>
        </message>
        <message>
            <source>Model: {0}. Sampling settings come from Settings.</source>
            <translation>模型：{0}。采样参数取自“设置”。</translation>
        </message>
        <message>
            <source>Caption file extension</source>
            <translation>描述文件扩展名</translation>
        </message>
        <message>
            <source>photo.jpg gets photo.txt with .txt; e.g. .caption</source>
            <translation>使用 .txt 时，photo.jpg 对应 photo.txt；也可以用 .caption 等</translation>
        </message>
        <message>
            <source>S&amp;kip the image</source>
            <translation>跳过该图片(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;Overwrite the file</source>
            <translation>覆盖该文件(&amp;O)</translation>
        </message>
        <message>
            <source>Appe&amp;nd the new caption</source>
            <translation>追加新描述(&amp;N)</translation>
        </message>
        <message>
            <source>Caption prefix</source>
            <translation>描述前缀</translation>
        </message>
        <message>
            <source>Optional, e.g. a trigger word and a comma</source>
            <translation>可选，例如一个触发词加逗号</translation>
        </message>
        <message>
            <source>Caption suffix</source>
            <translation>描述后缀</translation>
        </message>
        <message>
            <source>Optional</source>
            <translation>可选</translation>
        </message>
        <message>
            <source>Write a {0} report</source>
            <translation>写入 {0} 报告</translation>
        </message>
        <message>
            <source>Reports folder</source>
            <translation>报告文件夹</translation>
        </message>
        <message>
            <source>The image folder</source>
            <translation>图片所在文件夹</translation>
        </message>
        <message>
            <source>Bro&amp;wse…</source>
            <translation>浏览(&amp;W)…</translation>
        </message>
        <message>
            <source>Choose the reports folder</source>
            <translation>选择报告文件夹</translation>
        </message>
        <message>
            <source>Caption files and reports</source>
            <translation>描述文件和报告</translation>
        </message>
        <message>
            <source>E&amp;xtension:</source>
            <translation>扩展名(&amp;X)：</translation>
        </message>
        <message>
            <source>If a caption file exists:</source>
            <translation>如果描述文件已存在：</translation>
        </message>
        <message>
            <source>P&amp;refix:</source>
            <translation>前缀(&amp;R)：</translation>
        </message>
        <message>
            <source>S&amp;uffix:</source>
            <translation>后缀(&amp;U)：</translation>
        </message>
        <message>
            <source>Reports:</source>
            <translation>报告：</translation>
        </message>
        <message>
            <source>Reports fo&amp;lder:</source>
            <translation>报告文件夹(&amp;L)：</translation>
        </message>
        <message>
            <source>Problem</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>&amp;Start</source>
            <translation>开始(&amp;S)</translation>
        </message>
        <message>
            <source>Start describing the folder</source>
            <translation>开始描述文件夹</translation>
        </message>
        <message>
            <source>Choose a folder of images</source>
            <translation>选择图片文件夹</translation>
        </message>
        <message>
            <source>Choose where the reports go</source>
            <translation>选择报告的保存位置</translation>
        </message>
        <message>
            <source>Choose the folder of images to describe.</source>
            <translation>请选择要描述的图片文件夹。</translation>
        </message>
        <message>
            <source>The folder {0} does not exist.</source>
            <translation>文件夹 {0} 不存在。</translation>
        </message>
        <message>
            <source>Choose at least one image type.</source>
            <translation>请至少选择一种图片类型。</translation>
        </message>
        <message>
            <source>Enter a prompt, or choose a preset.</source>
            <translation>请输入提示词，或选择一个预设。</translation>
        </message>
    </context>
    <context>
        <name>BatchProgressView</name>
        <message>
            <source>No folder is being described.</source>
            <translation>当前没有正在描述的文件夹。</translation>
        </message>
        <message>
            <source>Batch</source>
            <translation>批处理</translation>
        </message>
        <message>
            <source>Images done</source>
            <translation>已完成的图片</translation>
        </message>
        <message>
            <source>Speed and time left</source>
            <translation>速度和剩余时间</translation>
        </message>
        <message>
            <source>Current image</source>
            <translation>当前图片</translation>
        </message>
        <message>
            <source>Caption of the current image</source>
            <translation>当前图片的描述</translation>
        </message>
        <message>
            <source>Captions appear here as they are written.</source>
            <translation>描述生成时会显示在这里。</translation>
        </message>
        <message>
            <source>Failed images</source>
            <translation>失败的图片</translation>
        </message>
        <message>
            <source>Image</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>Reason</source>
            <translation>原因</translation>
        </message>
        <message>
            <source>Batch notice</source>
            <translation>批处理提示</translation>
        </message>
        <message>
            <source>&amp;Pause</source>
            <translation>暂停(&amp;P)</translation>
        </message>
        <message>
            <source>Pause after the current caption</source>
            <translation>在当前描述完成后暂停</translation>
        </message>
        <message>
            <source>Pause the batch</source>
            <translation>暂停批处理</translation>
        </message>
        <message>
            <source>&amp;Resume</source>
            <translation>继续(&amp;R)</translation>
        </message>
        <message>
            <source>Resume the batch</source>
            <translation>继续批处理</translation>
        </message>
        <message>
            <source>C&amp;ancel</source>
            <translation>取消(&amp;A)</translation>
        </message>
        <message>
            <source>Stop the batch. Finished captions are kept; it can be resumed later.</source>
            <translation>停止批处理。已完成的描述会保留，之后可以继续。</translation>
        </message>
        <message>
            <source>Cancel the batch</source>
            <translation>取消批处理</translation>
        </message>
        <message>
            <source>Re&amp;try Failed</source>
            <translation>重试失败项(&amp;T)</translation>
        </message>
        <message>
            <source>Describe the images that failed again</source>
            <translation>重新描述失败的图片</translation>
        </message>
        <message>
            <source>Retry the failed images</source>
            <translation>重试失败的图片</translation>
        </message>
        <message>
            <source>View &amp;Images</source>
            <translation>查看图片(&amp;I)</translation>
        </message>
        <message>
            <source>Browse the folder's images in the viewer</source>
            <translation>在查看器中浏览该文件夹的图片</translation>
        </message>
        <message>
            <source>View the folder's images</source>
            <translation>查看该文件夹的图片</translation>
        </message>
        <message>
            <source>Looking for images…</source>
            <translation>正在查找图片…</translation>
        </message>
        <message>
            <source>Retrying the failed images in {0}</source>
            <translation>正在重试 {0} 中失败的图片</translation>
        </message>
        <message>
            <source>Resuming {0}</source>
            <translation>正在继续 {0}</translation>
        </message>
        <message>
            <source>Describing {0}</source>
            <translation>正在描述 {0}</translation>
        </message>
        <message>
            <source>Now: {0}</source>
            <translation>当前：{0}</translation>
        </message>
        <message>
            <source>Now: {0} images at once, from {1}</source>
            <translation>当前：一次 {0} 张图片，从 {1} 开始</translation>
        </message>
        <message>
            <source>Last: {0}</source>
            <translation>上一张：{0}</translation>
        </message>
        <message>
            <source>(warning)</source>
            <translation>（警告）</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>{0} / {1}</translation>
        </message>
        <message>
            <source>{0} of {1} images</source>
            <translation>{0} / {1} 张图片</translation>
        </message>
        <message>
            <source>{0:.1f} images/min</source>
            <translation>{0:.1f} 张/分钟</translation>
        </message>
        <message>
            <source>about {0} left</source>
            <translation>约剩 {0}</translation>
        </message>
        <message>
            <source>{0} failed</source>
            <translation>{0} 张失败</translation>
        </message>
        <message>
            <source>{0} skipped (caption file exists)</source>
            <translation>{0} 张跳过（描述文件已存在）</translation>
        </message>
        <message>
            <source>Pausing after the current caption…</source>
            <translation>将在当前描述完成后暂停…</translation>
        </message>
        <message>
            <source>Paused</source>
            <translation>已暂停</translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>正在取消…</translation>
        </message>
        <message>
            <source>{0} captioned, {1} failed, {2} skipped of {3} images</source>
            <translation>共 {3} 张图片：{0} 张已生成描述，{1} 张失败，{2} 张跳过</translation>
        </message>
        <message>
            <source>Cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <source>Cancelled: {0}. Finished captions are kept; Resume continues where it stopped.</source>
            <translation>已取消：{0}。已完成的描述会保留；点击“继续”可从停止处接着处理。</translation>
        </message>
        <message>
            <source>Finished</source>
            <translation>已完成</translation>
        </message>
        <message>
            <source>Finished: {0} in {1}.</source>
            <translation>已完成：{0}，用时 {1}。</translation>
        </message>
        <message>
            <source>Retry Failed describes the failed images again.</source>
            <translation>“重试失败项”会重新描述失败的图片。</translation>
        </message>
        <message>
            <source>{0} — {1}</source>
            <translation>{0} — {1}</translation>
        </message>
        <message>
            <source>Last caption: {0}</source>
            <translation>上一条描述：{0}</translation>
        </message>
        <message>
            <source>Reports in {0}: {1}</source>
            <translation>报告位于 {0}：{1}</translation>
        </message>
        <message>
            <source>Reports: {0}</source>
            <translation>报告：{0}</translation>
        </message>
        <message>
            <source>The batch stopped: {0}</source>
            <translation>批处理已停止：{0}</translation>
        </message>
        <message>
            <source>What was done is kept; Resume tries again.</source>
            <translation>已完成的部分会保留；点击“继续”可再次尝试。</translation>
        </message>
        <message>
            <source>Failed images ({0})</source>
            <translation>失败的图片（{0}）</translation>
        </message>
        <message>
            <source>Go on where the batch stopped</source>
            <translation>从批处理停止的地方继续</translation>
        </message>
        <message>
            <source>Resume a paused or cancelled batch</source>
            <translation>继续已暂停或已取消的批处理</translation>
        </message>
    </context>
    <context>
        <name>BatchStatusButton</name>
        <message>
            <source>Folder batch progress</source>
            <translation>文件夹批处理进度</translation>
        </message>
        <message>
            <source>Show the folder batch</source>
            <translation>显示文件夹批处理</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>{0} / {1}</translation>
        </message>
        <message>
            <source>Pausing folder batch</source>
            <translation>正在暂停文件夹批处理</translation>
        </message>
        <message>
            <source>Folder batch paused</source>
            <translation>文件夹批处理已暂停</translation>
        </message>
        <message>
            <source>Cancelling folder batch</source>
            <translation>正在取消文件夹批处理</translation>
        </message>
        <message>
            <source>Describing folder</source>
            <translation>正在描述文件夹</translation>
        </message>
    </context>
    <context>
        <name>Catalog</name>
        <message>
            <source>Small, fast and good at OCR: the default, runs on most laptops.</source>
            <translation>小巧、快速，擅长文字识别（OCR）：默认模型，大多数笔记本电脑都能运行。</translation>
        </message>
        <message>
            <source>Noticeably better descriptions and reasoning; wants 16 GB of RAM on CPU.</source>
            <translation>描述和推理明显更好；在 CPU 上运行需要 16 GB 内存。</translation>
        </message>
        <message>
            <source>The most capable; best on a GPU with 24 GB.</source>
            <translation>能力最强；最好在 24 GB 显存的 GPU 上运行。</translation>
        </message>
        <message>
            <source>The previous generation, well tested; strong at documents.</source>
            <translation>上一代模型，久经检验；擅长处理文档。</translation>
        </message>
        <message>
            <source>The previous generation's large model.</source>
            <translation>上一代的大模型。</translation>
        </message>
        <message>
            <source>Tiny and quick: short captions on modest machines.</source>
            <translation>极小且快速：在普通电脑上生成简短说明。</translation>
        </message>
        <message>
            <source>Newest small model with hybrid linear attention.</source>
            <translation>最新的小模型，采用混合线性注意力。</translation>
        </message>
    </context>
    <context>
        <name>CatalogModel</name>
        <message>
            <source>Memory size unknown.</source>
            <translation>内存大小未知。</translation>
        </message>
        <message>
            <source>Too big: needs ~{need} ({precision}) of {have} GPU memory.</source>
            <translation>太大：需要约 {need}（{precision}），GPU 显存共 {have}。</translation>
        </message>
        <message>
            <source>Tight: needs ~{need} ({precision}) of {have} GPU memory; close other programs.</source>
            <translation>勉强：需要约 {need}（{precision}），GPU 显存共 {have}；请关闭其他程序。</translation>
        </message>
        <message>
            <source>Fits: needs ~{need} ({precision}) of {have} GPU memory.</source>
            <translation>可运行：需要约 {need}（{precision}），GPU 显存共 {have}。</translation>
        </message>
        <message>
            <source>Too big: needs ~{need} ({precision}) of {have} RAM.</source>
            <translation>太大：需要约 {need}（{precision}），内存共 {have}。</translation>
        </message>
        <message>
            <source>Tight: needs ~{need} ({precision}) of {have} RAM; close other programs.</source>
            <translation>勉强：需要约 {need}（{precision}），内存共 {have}；请关闭其他程序。</translation>
        </message>
        <message>
            <source>Fits: needs ~{need} ({precision}) of {have} RAM.</source>
            <translation>可运行：需要约 {need}（{precision}），内存共 {have}。</translation>
        </message>
        <message>
            <source> (default)</source>
            <translation>（默认）</translation>
        </message>
        <message>
            <source>Imported from {path}</source>
            <translation>导入自 {path}</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Download</source>
            <translation>下载大小</translation>
        </message>
        <message>
            <source>This machine</source>
            <translation>本机</translation>
        </message>
        <message>
            <source>State</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>Fits</source>
            <translation>可运行</translation>
        </message>
        <message>
            <source>Tight</source>
            <translation>勉强</translation>
        </message>
        <message>
            <source>Too big</source>
            <translation>太大</translation>
        </message>
        <message>
            <source>Unknown</source>
            <translation>未知</translation>
        </message>
        <message>
            <source>Downloading {percent:.0f}%</source>
            <translation>正在下载 {percent:.0f}%</translation>
        </message>
        <message>
            <source>Imported</source>
            <translation>已导入</translation>
        </message>
        <message>
            <source>Partial ({percent:.0f}%)</source>
            <translation>部分下载（{percent:.0f}%）</translation>
        </message>
        <message>
            <source>Installed</source>
            <translation>已安装</translation>
        </message>
        <message>
            <source>Not downloaded</source>
            <translation>未下载</translation>
        </message>
        <message>
            <source>Partial</source>
            <translation>部分下载</translation>
        </message>
        <message>
            <source>Damaged</source>
            <translation>已损坏</translation>
        </message>
    </context>
    <context>
        <name>DesktopApp</name>
        <message>
            <source>History is not available: {0}</source>
            <translation>历史记录不可用：{0}</translation>
        </message>
        <message>
            <source>Copied to the clipboard.</source>
            <translation>已复制到剪贴板。</translation>
        </message>
        <message>
            <source>The answer could not be saved to history: {0}</source>
            <translation>回答未能保存到历史记录：{0}</translation>
        </message>
        <message>
            <source>The new interface language is used from the next start of vldesk.</source>
            <translation>新的界面语言将在下次启动 vldesk 时生效。</translation>
        </message>
        <message>
            <source>*Loading the model…*</source>
            <translation>*正在加载模型…*</translation>
        </message>
        <message>
            <source>Choose a preset below, or type a question about the image and press **Enter**. Follow-up questions continue the conversation.</source>
            <translation>选择下方的预设，或输入关于这张图片的问题并按 **Enter**。后续提问会接着当前对话。</translation>
        </message>
        <message>
            <source>Open an image (**Ctrl+O**), drop one on the window or paste one (**Ctrl+V**), then choose a preset or ask a question.</source>
            <translation>打开图片（**Ctrl+O**）、拖放到窗口或粘贴（**Ctrl+V**），然后选择预设或直接提问。</translation>
        </message>
        <message>
            <source>Choose a model folder</source>
            <translation>选择模型文件夹</translation>
        </message>
        <message>
            <source>{0} cannot be used as a model: {1}</source>
            <translation>{0} 无法用作模型：{1}</translation>
        </message>
        <message>
            <source>Loading {0}…</source>
            <translation>正在加载 {0}…</translation>
        </message>
        <message>
            <source>{0} is ready ({1:.1f} s).</source>
            <translation>{0} 已就绪（{1:.1f} 秒）。</translation>
        </message>
        <message>
            <source>The model was unloaded.</source>
            <translation>模型已卸载。</translation>
        </message>
        <message>
            <source>{0} is downloaded; choose it in the Model menu.</source>
            <translation>{0} 已下载；请在“模型”菜单中选择它。</translation>
        </message>
        <message>
            <source>Folder Batch</source>
            <translation>文件夹批处理</translation>
        </message>
        <message>
            <source>Folder &amp;Batch</source>
            <translation>文件夹批处理(&amp;B)</translation>
        </message>
        <message>
            <source>Show the progress of describing a folder</source>
            <translation>显示描述文件夹的进度</translation>
        </message>
        <message>
            <source>Load a model first: folders are described with the loaded model (Model menu).</source>
            <translation>请先加载模型：文件夹会用已加载的模型来描述（“模型”菜单）。</translation>
        </message>
        <message>
            <source>The model is busy describing a folder. Cancel the batch or wait for it to finish, then try again.</source>
            <translation>模型正在描述文件夹。请取消批处理或等待其完成后再试。</translation>
        </message>
        <message>
            <source>This batch was started with {0}: load it again to continue the batch.</source>
            <translation>此批处理是用 {0} 开始的：请重新加载该模型以继续批处理。</translation>
        </message>
        <message>
            <source>The model is busy describing a folder: questions can be asked again when the batch finishes or is cancelled. Images can still be viewed.</source>
            <translation>模型正在描述文件夹：批处理完成或取消后才能继续提问。图片仍可查看。</translation>
        </message>
        <message>
            <source>Describing {0} was cancelled: {1} of {2} images done.</source>
            <translation>已取消描述 {0}：已完成 {1} / {2} 张图片。</translation>
        </message>
        <message>
            <source>Finished describing {0}: {1} captioned, {2} failed, {3} skipped.</source>
            <translation>已完成描述 {0}：{1} 张已生成描述，{2} 张失败，{3} 张跳过。</translation>
        </message>
        <message>
            <source>Show</source>
            <translation>显示</translation>
        </message>
        <message>
            <source>Describing the folder stopped: {0}</source>
            <translation>文件夹描述已停止：{0}</translation>
        </message>
        <message>
            <source>Open Image</source>
            <translation>打开图片</translation>
        </message>
        <message>
            <source>Images ({0});;All files (*)</source>
            <translation>图片 ({0});;所有文件 (*)</translation>
        </message>
        <message>
            <source>Not image files, skipped: {0}</source>
            <translation>不是图片文件，已跳过：{0}</translation>
        </message>
        <message>
            <source>There are no images there.</source>
            <translation>那里没有图片。</translation>
        </message>
        <message>
            <source>Opening {0}…</source>
            <translation>正在打开 {0}…</translation>
        </message>
        <message>
            <source>The clipboard holds no image to paste.</source>
            <translation>剪贴板中没有可粘贴的图片。</translation>
        </message>
        <message>
            <source>{0} of {1}</source>
            <translation>第 {0} 张，共 {1} 张</translation>
        </message>
        <message>
            <source>Open an image first (Ctrl+O, drop or paste).</source>
            <translation>请先打开一张图片（Ctrl+O、拖放或粘贴）。</translation>
        </message>
        <message>
            <source>The model is not loaded yet.</source>
            <translation>模型尚未加载。</translation>
        </message>
        <message>
            <source>stopped</source>
            <translation>已停止</translation>
        </message>
        <message>
            <source>cut off at the token limit (Settings → Max new tokens)</source>
            <translation>已达到 token 上限而截断（设置 → 最大新 token 数）</translation>
        </message>
        <message>
            <source>Retry with {0} image tokens</source>
            <translation>以 {0} 个图像 token 重试</translation>
        </message>
        <message>
            <source>Retry on the CPU</source>
            <translation>改用 CPU 重试</translation>
        </message>
        <message>
            <source>{0} (only a thumbnail is kept)</source>
            <translation>{0}（仅保留了缩略图）</translation>
        </message>
        <message>
            <source>pasted image</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>The image of this conversation is no longer available, so follow-up questions are not possible.</source>
            <translation>此对话的图片已不存在，因此无法继续追问。</translation>
        </message>
        <message>
            <source>Delete from history</source>
            <translation>从历史记录中删除</translation>
        </message>
        <message>
            <source>Delete {0} conversation(s) from the history? This cannot be undone.</source>
            <translation>要从历史记录中删除 {0} 个对话吗？此操作无法撤销。</translation>
        </message>
        <message>
            <source>Saved {0}.</source>
            <translation>已保存 {0}。</translation>
        </message>
        <message>
            <source>Export Answer</source>
            <translation>导出回答</translation>
        </message>
        <message>
            <source>Export Conversation</source>
            <translation>导出对话</translation>
        </message>
        <message>
            <source>There is nothing in the history to export.</source>
            <translation>历史记录中没有可导出的内容。</translation>
        </message>
        <message>
            <source>Export History</source>
            <translation>导出历史记录</translation>
        </message>
        <message>
            <source>### No model is available yet

vldesk needs a Qwen vision-language model on this computer. Choose **Model → Manage Models…** (Ctrl+M) to download one, or download one in a terminal:

`vldesk models download Qwen/Qwen3-VL-2B-Instruct`

or choose **Model → Open Model Folder…** to use a model folder you already have.</source>
            <translation>### 还没有可用的模型

vldesk 需要本机上有一个 Qwen 视觉语言模型。选择 **模型 → 管理模型…**（Ctrl+M）下载一个，或在终端中下载：

`vldesk models download Qwen/Qwen3-VL-2B-Instruct`

或选择 **模型 → 打开模型文件夹…** 使用已有的模型文件夹。</translation>
        </message>
    </context>
    <context>
        <name>ErrorDialog</name>
        <message>
            <source>vldesk — unexpected error</source>
            <translation>vldesk — 意外错误</translation>
        </message>
        <message>
            <source>Error message</source>
            <translation>错误信息</translation>
        </message>
        <message>
            <source>vldesk keeps running; your settings and history are untouched.</source>
            <translation>vldesk 仍在运行；您的设置和历史记录不受影响。</translation>
        </message>
        <message>
            <source>The details were written to {0}.</source>
            <translation>详细信息已写入 {0}。</translation>
        </message>
        <message>
            <source>Error details</source>
            <translation>错误详情</translation>
        </message>
        <message>
            <source>Copy details</source>
            <translation>复制详情</translation>
        </message>
        <message>
            <source>Copy the error details</source>
            <translation>复制错误详情</translation>
        </message>
        <message>
            <source>Show details</source>
            <translation>显示详情</translation>
        </message>
    </context>
    <context>
        <name>ExceptionHook</name>
        <message>
            <source>vldesk ran out of memory. Close other programs or use a smaller model.</source>
            <translation>vldesk 内存不足。请关闭其他程序或使用更小的模型。</translation>
        </message>
        <message>
            <source>Something went wrong: {0}: {1}</source>
            <translation>出现错误：{0}：{1}</translation>
        </message>
    </context>
    <context>
        <name>Export</name>
        <message>
            <source>Markdown (*.md);;Text (*.txt)</source>
            <translation>Markdown (*.md);;纯文本 (*.txt)</translation>
        </message>
    </context>
    <context>
        <name>HistoryListModel</name>
        <message>
            <source>pasted image</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>(no question)</source>
            <translation>（无问题）</translation>
        </message>
    </context>
    <context>
        <name>HistoryPanel</name>
        <message>
            <source>Search prompts and answers (Ctrl+F)</source>
            <translation>搜索问题和回答（Ctrl+F）</translation>
        </message>
        <message>
            <source>Search history</source>
            <translation>搜索历史记录</translation>
        </message>
        <message>
            <source>History entries</source>
            <translation>历史记录条目</translation>
        </message>
        <message>
            <source>No conversations yet.</source>
            <translation>还没有对话。</translation>
        </message>
        <message>
            <source>Open</source>
            <translation>打开</translation>
        </message>
        <message>
            <source>Open the selected conversation</source>
            <translation>打开选中的对话</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>Delete the selected conversations (Del)</source>
            <translation>删除选中的对话（Del）</translation>
        </message>
        <message>
            <source>Delete the selected conversations</source>
            <translation>删除选中的对话</translation>
        </message>
        <message>
            <source>Export…</source>
            <translation>导出…</translation>
        </message>
        <message>
            <source>Export the selected conversations</source>
            <translation>导出选中的对话</translation>
        </message>
        <message>
            <source>Nothing matches this search.</source>
            <translation>没有匹配的结果。</translation>
        </message>
        <message>
            <source>No conversations yet. Answers are kept here.</source>
            <translation>还没有对话。回答会保存在这里。</translation>
        </message>
    </context>
    <context>
        <name>ImageViewer</name>
        <message>
            <source>Drop images or a folder here, paste an image (Ctrl+V) or open one (Ctrl+O).</source>
            <translation>将图片或文件夹拖放到这里，粘贴图片（Ctrl+V）或打开图片（Ctrl+O）。</translation>
        </message>
        <message>
            <source>Image</source>
            <translation>图片</translation>
        </message>
        <message>
            <source>Arrow keys scroll, Ctrl+plus and Ctrl+minus zoom, Ctrl+0 fits the window.</source>
            <translation>方向键滚动，Ctrl+加号和 Ctrl+减号缩放，Ctrl+0 适应窗口。</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>Image information</source>
            <translation>图片信息</translation>
        </message>
        <message>
            <source>Model loading</source>
            <translation>模型加载</translation>
        </message>
        <message>
            <source>History</source>
            <translation>历史记录</translation>
        </message>
        <message>
            <source>&amp;Open Image…</source>
            <translation>打开图片(&amp;O)…</translation>
        </message>
        <message>
            <source>Open an image file</source>
            <translation>打开图片文件</translation>
        </message>
        <message>
            <source>&amp;Paste Image</source>
            <translation>粘贴图片(&amp;P)</translation>
        </message>
        <message>
            <source>Use the image on the clipboard</source>
            <translation>使用剪贴板中的图片</translation>
        </message>
        <message>
            <source>&amp;Next Image</source>
            <translation>下一张图片(&amp;N)</translation>
        </message>
        <message>
            <source>The next image in the folder</source>
            <translation>文件夹中的下一张图片</translation>
        </message>
        <message>
            <source>P&amp;revious Image</source>
            <translation>上一张图片(&amp;R)</translation>
        </message>
        <message>
            <source>The previous image in the folder</source>
            <translation>文件夹中的上一张图片</translation>
        </message>
        <message>
            <source>Export &amp;Answer…</source>
            <translation>导出回答(&amp;A)…</translation>
        </message>
        <message>
            <source>Save the last answer as .txt or .md</source>
            <translation>将最后的回答保存为 .txt 或 .md</translation>
        </message>
        <message>
            <source>&amp;Export Conversation…</source>
            <translation>导出对话(&amp;E)…</translation>
        </message>
        <message>
            <source>Save this conversation</source>
            <translation>保存此对话</translation>
        </message>
        <message>
            <source>Export &amp;History…</source>
            <translation>导出历史记录(&amp;H)…</translation>
        </message>
        <message>
            <source>Save every history entry to one file</source>
            <translation>将全部历史记录保存到一个文件</translation>
        </message>
        <message>
            <source>&amp;Describe Folder…</source>
            <translation>描述文件夹(&amp;D)…</translation>
        </message>
        <message>
            <source>Write a caption file for every image in a folder</source>
            <translation>为文件夹中的每张图片写一个描述文件</translation>
        </message>
        <message>
            <source>&amp;Settings…</source>
            <translation>设置(&amp;S)…</translation>
        </message>
        <message>
            <source>Change settings</source>
            <translation>更改设置</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <source>&amp;Copy Answer</source>
            <translation>复制回答(&amp;C)</translation>
        </message>
        <message>
            <source>Copy the last answer as Markdown</source>
            <translation>以 Markdown 格式复制最后的回答</translation>
        </message>
        <message>
            <source>Copy C&amp;onversation</source>
            <translation>复制对话(&amp;O)</translation>
        </message>
        <message>
            <source>Copy the whole conversation as Markdown</source>
            <translation>以 Markdown 格式复制整个对话</translation>
        </message>
        <message>
            <source>&amp;New Conversation</source>
            <translation>新对话(&amp;N)</translation>
        </message>
        <message>
            <source>Start again about the same image</source>
            <translation>针对同一张图片重新开始</translation>
        </message>
        <message>
            <source>Ask a &amp;Question</source>
            <translation>提问(&amp;Q)</translation>
        </message>
        <message>
            <source>Zoom &amp;In</source>
            <translation>放大(&amp;I)</translation>
        </message>
        <message>
            <source>Zoom &amp;Out</source>
            <translation>缩小(&amp;O)</translation>
        </message>
        <message>
            <source>&amp;Fit to Window</source>
            <translation>适应窗口(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Actual Size (100%)</source>
            <translation>实际大小 (100%)(&amp;A)</translation>
        </message>
        <message>
            <source>&amp;History</source>
            <translation>历史记录(&amp;H)</translation>
        </message>
        <message>
            <source>&amp;Search History</source>
            <translation>搜索历史记录(&amp;S)</translation>
        </message>
        <message>
            <source>Open Model &amp;Folder…</source>
            <translation>打开模型文件夹(&amp;F)…</translation>
        </message>
        <message>
            <source>Use a model folder on this computer</source>
            <translation>使用本机上的模型文件夹</translation>
        </message>
        <message>
            <source>&amp;Reload Model</source>
            <translation>重新加载模型(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Unload Model</source>
            <translation>卸载模型(&amp;U)</translation>
        </message>
        <message>
            <source>Free the memory the model uses</source>
            <translation>释放模型占用的内存</translation>
        </message>
        <message>
            <source>&amp;Manage Models…</source>
            <translation>管理模型(&amp;M)…</translation>
        </message>
        <message>
            <source>Download, import, remove or choose a model</source>
            <translation>下载、导入、移除或选择模型</translation>
        </message>
        <message>
            <source>&amp;About vldesk</source>
            <translation>关于 vldesk(&amp;A)</translation>
        </message>
        <message>
            <source>Open &amp;Log Folder</source>
            <translation>打开日志文件夹(&amp;L)</translation>
        </message>
        <message>
            <source>Open &amp;Data Folder</source>
            <translation>打开数据文件夹(&amp;D)</translation>
        </message>
        <message>
            <source>Show where the history is kept</source>
            <translation>显示历史记录的存放位置</translation>
        </message>
        <message>
            <source>&amp;Keyboard Shortcuts</source>
            <translation>键盘快捷键(&amp;K)</translation>
        </message>
        <message>
            <source>Copy as Alt &amp;Text</source>
            <translation>复制为替代文本(&amp;T)</translation>
        </message>
        <message>
            <source>Copy the last answer as plain text</source>
            <translation>以纯文本复制最后的回答</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>&amp;Model</source>
            <translation>模型(&amp;M)</translation>
        </message>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>No models installed</source>
            <translation>未安装模型</translation>
        </message>
        <message>
            <source>&amp;Serve on This Computer…</source>
            <translation>在本机提供服务(&amp;S)…</translation>
        </message>
        <message>
            <source>Let other programs and phones use the loaded model</source>
            <translation>让其他程序和手机使用已加载的模型</translation>
        </message>
    </context>
    <context>
        <name>MessageBanner</name>
        <message>
            <source>Message</source>
            <translation>消息</translation>
        </message>
        <message>
            <source>Dismiss</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>Dismiss the message</source>
            <translation>关闭此消息</translation>
        </message>
    </context>
    <context>
        <name>ModelDialog</name>
        <message>
            <source>{done} of {total}</source>
            <translation>{done} / {total}</translation>
        </message>
        <message>
            <source>{time} left</source>
            <translation>剩余 {time}</translation>
        </message>
        <message>
            <source>Models</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>No model is installed yet. Choose one to download (once; afterwards everything runs offline), or import a model folder you already have.</source>
            <translation>尚未安装任何模型。请选择一个下载（只需一次，之后一切离线运行），或导入已有的模型文件夹。</translation>
        </message>
        <message>
            <source>Download, import or choose the model vldesk answers with.</source>
            <translation>下载、导入或选择 vldesk 用来回答的模型。</translation>
        </message>
        <message>
            <source>Available models</source>
            <translation>可用模型</translation>
        </message>
        <message>
            <source>Download progress</source>
            <translation>下载进度</translation>
        </message>
        <message>
            <source>&amp;Download</source>
            <translation>下载(&amp;D)</translation>
        </message>
        <message>
            <source>&amp;Cancel download</source>
            <translation>取消下载(&amp;C)</translation>
        </message>
        <message>
            <source>&amp;Remove…</source>
            <translation>移除(&amp;R)…</translation>
        </message>
        <message>
            <source>&amp;Import folder…</source>
            <translation>导入文件夹(&amp;I)…</translation>
        </message>
        <message>
            <source>&amp;Use this model</source>
            <translation>使用此模型(&amp;U)</translation>
        </message>
        <message>
            <source>Close</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>Resume &amp;download</source>
            <translation>继续下载(&amp;D)</translation>
        </message>
        <message>
            <source>Folder: {path}</source>
            <translation>文件夹：{path}</translation>
        </message>
        <message>
            <source>Model may not fit</source>
            <translation>模型可能装不下</translation>
        </message>
        <message>
            <source>{hint}

Download it anyway?</source>
            <translation>{hint}

仍要下载吗？</translation>
        </message>
        <message>
            <source>Connecting to ModelScope…</source>
            <translation>正在连接 ModelScope…</translation>
        </message>
        <message>
            <source>Forget the imported model “{name}”? Its folder is not deleted.</source>
            <translation>要移除导入的模型“{name}”吗？其文件夹不会被删除。</translation>
        </message>
        <message>
            <source>Delete {name} ({size}) from this computer?</source>
            <translation>要从本机删除 {name}（{size}）吗？</translation>
        </message>
        <message>
            <source>Remove model</source>
            <translation>移除模型</translation>
        </message>
        <message>
            <source>Import a model folder</source>
            <translation>导入模型文件夹</translation>
        </message>
        <message>
            <source>Import model</source>
            <translation>导入模型</translation>
        </message>
        <message>
            <source>{model} is ready.</source>
            <translation>{model} 已就绪。</translation>
        </message>
        <message>
            <source>Download stopped. What was downloaded is kept: Resume continues it.</source>
            <translation>下载已停止。已下载的部分会保留，点击“继续下载”即可接着下载。</translation>
        </message>
    </context>
    <context>
        <name>PromptPanel</name>
        <message>
            <source>Ask about the image… (Enter sends, Shift+Enter adds a line)</source>
            <translation>询问这张图片…（Enter 发送，Shift+Enter 换行）</translation>
        </message>
        <message>
            <source>Question</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>System prompt</source>
            <translation>系统提示词</translation>
        </message>
        <message>
            <source>Show the system prompt</source>
            <translation>显示系统提示词</translation>
        </message>
        <message>
            <source>Optional instructions for every answer, e.g. “Answer in French.”</source>
            <translation>可选，对每次回答都有效的指示，例如“用法语回答。”</translation>
        </message>
        <message>
            <source>Send</source>
            <translation>发送</translation>
        </message>
        <message>
            <source>Ask the question (Enter)</source>
            <translation>提出问题（Enter）</translation>
        </message>
        <message>
            <source>Send the question</source>
            <translation>发送问题</translation>
        </message>
        <message>
            <source>Stop</source>
            <translation>停止</translation>
        </message>
        <message>
            <source>Stop the answer (Esc)</source>
            <translation>停止回答（Esc）</translation>
        </message>
        <message>
            <source>Stop the answer</source>
            <translation>停止回答</translation>
        </message>
    </context>
    <context>
        <name>SettingsDialog</name>
        <message>
            <source>Settings</source>
            <translation>设置</translation>
        </message>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Device</source>
            <translation>设备</translation>
        </message>
        <message>
            <source>Precision</source>
            <translation>精度</translation>
        </message>
        <message>
            <source>Weights on the CPU</source>
            <translation>CPU 上的权重</translation>
        </message>
        <message>
            <source>Full (most accurate)</source>
            <translation>完整（最准确）</translation>
        </message>
        <message>
            <source>int8 (faster answers, slightly less accurate)</source>
            <translation>int8（回答更快，准确度略低）</translation>
        </message>
        <message>
            <source>int4 (fastest answers, least accurate)</source>
            <translation>int4（回答最快，准确度最低）</translation>
        </message>
        <message>
            <source>Stores the language model's weights in 8 or 4 bits on the CPU, so each new word needs fewer memory reads, at some cost in accuracy. GPUs ignore this setting.</source>
            <translation>在 CPU 上以 8 位或 4 位保存语言模型的权重，每生成一个词所需的内存读取更少，但准确度会有所下降。GPU 会忽略此设置。</translation>
        </message>
        <message>
            <source>Maximum new tokens</source>
            <translation>最大新 token 数</translation>
        </message>
        <message>
            <source>Greedy decoding (the same answer every time)</source>
            <translation>贪心解码（每次回答相同）</translation>
        </message>
        <message>
            <source>Temperature</source>
            <translation>温度</translation>
        </message>
        <message>
            <source>Top-p</source>
            <translation>Top-p 采样</translation>
        </message>
        <message>
            <source>Top-k</source>
            <translation>Top-k 采样</translation>
        </message>
        <message>
            <source>Repetition penalty</source>
            <translation>重复惩罚</translation>
        </message>
        <message>
            <source>Use the model's &amp;values</source>
            <translation>使用模型推荐的值(&amp;V)</translation>
        </message>
        <message>
            <source>Image token budget</source>
            <translation>图像 token 预算</translation>
        </message>
        <message>
            <source>More tokens keep more detail (small text) but answer more slowly.</source>
            <translation>token 越多，保留的细节（如小字）越多，但回答越慢。</translation>
        </message>
        <message>
            <source>Language of the presets</source>
            <translation>预设语言</translation>
        </message>
        <message>
            <source>Interface language</source>
            <translation>界面语言</translation>
        </message>
        <message>
            <source>Automatic (system language)</source>
            <translation>自动（跟随系统语言）</translation>
        </message>
        <message>
            <source>&amp;Model:</source>
            <translation>模型(&amp;M)：</translation>
        </message>
        <message>
            <source>&amp;Device:</source>
            <translation>设备(&amp;D)：</translation>
        </message>
        <message>
            <source>&amp;Precision:</source>
            <translation>精度(&amp;P)：</translation>
        </message>
        <message>
            <source>&amp;Weights on the CPU:</source>
            <translation>CPU 上的权重(&amp;W)：</translation>
        </message>
        <message>
            <source>Answers</source>
            <translation>回答</translation>
        </message>
        <message>
            <source>Max new &amp;tokens:</source>
            <translation>最大新 token 数(&amp;T)：</translation>
        </message>
        <message>
            <source>T&amp;emperature:</source>
            <translation>温度(&amp;E)：</translation>
        </message>
        <message>
            <source>Top-&amp;p:</source>
            <translation>Top-p 采样(&amp;P)：</translation>
        </message>
        <message>
            <source>Top-&amp;k:</source>
            <translation>Top-k 采样(&amp;K)：</translation>
        </message>
        <message>
            <source>&amp;Repetition penalty:</source>
            <translation>重复惩罚(&amp;R)：</translation>
        </message>
        <message>
            <source>&amp;Image token budget:</source>
            <translation>图像 token 预算(&amp;I)：</translation>
        </message>
        <message>
            <source>Preset &amp;language:</source>
            <translation>预设语言(&amp;L)：</translation>
        </message>
        <message>
            <source>Interface</source>
            <translation>界面</translation>
        </message>
        <message>
            <source>Interf&amp;ace language:</source>
            <translation>界面语言(&amp;A)：</translation>
        </message>
        <message>
            <source>Takes effect the next time vldesk starts.</source>
            <translation>下次启动 vldesk 时生效。</translation>
        </message>
        <message>
            <source>Recommended by the model: temperature {0}, top-p {1}, top-k {2}, repetition penalty {3}.</source>
            <translation>模型推荐：温度 {0}，top-p {1}，top-k {2}，重复惩罚 {3}。</translation>
        </message>
    </context>
    <context>
        <name>ShortcutsDialog</name>
        <message>
            <source>Keyboard Shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
        <message>
            <source>Send the question</source>
            <translation>发送问题</translation>
        </message>
        <message>
            <source>New line in the question</source>
            <translation>在问题中换行</translation>
        </message>
        <message>
            <source>Stop the answer</source>
            <translation>停止回答</translation>
        </message>
        <message>
            <source>Ask with preset 1 to 9</source>
            <translation>使用第 1 到 9 个预设提问</translation>
        </message>
        <message>
            <source>Delete the selected history entries</source>
            <translation>删除选中的历史记录</translation>
        </message>
        <message>
            <source>{0} in the history</source>
            <translation>{0}（在历史记录列表中）</translation>
        </message>
        <message>
            <source>Move to the next or previous control</source>
            <translation>移到下一个或上一个控件</translation>
        </message>
        <message>
            <source>Open a menu</source>
            <translation>打开菜单</translation>
        </message>
        <message>
            <source>Alt+underlined letter, or {0}</source>
            <translation>Alt+带下划线的字母，或 {0}</translation>
        </message>
        <message>
            <source>Everything in vldesk works from the keyboard:</source>
            <translation>vldesk 的所有功能都可以用键盘操作：</translation>
        </message>
        <message>
            <source>Command</source>
            <translation>命令</translation>
        </message>
        <message>
            <source>Keys</source>
            <translation>按键</translation>
        </message>
        <message>
            <source>Keyboard shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
    </context>
    <context>
        <name>StatusPanel</name>
        <message>
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <source>Device and precision</source>
            <translation>设备和精度</translation>
        </message>
        <message>
            <source>Image tokens</source>
            <translation>图像 token</translation>
        </message>
        <message>
            <source>Time to first token</source>
            <translation>首个 token 用时</translation>
        </message>
        <message>
            <source>Tokens per second</source>
            <translation>每秒 token 数</translation>
        </message>
        <message>
            <source>Memory in use</source>
            <translation>占用内存</translation>
        </message>
        <message>
            <source>No model loaded</source>
            <translation>未加载模型</translation>
        </message>
        <message>
            <source>Loading {0}…</source>
            <translation>正在加载 {0}…</translation>
        </message>
        <message>
            <source>{0} image tokens</source>
            <translation>{0} 个图像 token</translation>
        </message>
        <message>
            <source>first token {0:.2f} s</source>
            <translation>首个 token {0:.2f} 秒</translation>
        </message>
        <message>
            <source>A follow-up: {0} tokens of the conversation, the image among them, were continued from the previous answer instead of being read again.</source>
            <translation>追问：对话中的 {0} 个词元（包括图片）沿用了上一次回答的缓存，没有重新读取。</translation>
        </message>
        <message>
            <source>{0:.1f} tokens/s</source>
            <translation>{0:.1f} token/秒</translation>
        </message>
        <message>
            <source>{0} in use</source>
            <translation>占用 {0}</translation>
        </message>
    </context>
    <context>
        <name>ServeController</name>
        <message>
            <source>Serving status</source>
            <translation>服务状态</translation>
        </message>
        <message>
            <source>Listening on {0} lets other computers use the model: set an API key first (Generate makes one).</source>
            <translation>在 {0} 上监听会让其他电脑使用此模型：请先设置 API 密钥（点“生成”即可创建）。</translation>
        </message>
        <message>
            <source>Cannot listen on {0}:{1}: {2}</source>
            <translation>无法在 {0}:{1} 上监听：{2}</translation>
        </message>
        <message>
            <source>The server did not start: {0}</source>
            <translation>服务器未能启动：{0}</translation>
        </message>
        <message>
            <source>Serving</source>
            <translation>服务中</translation>
        </message>
        <message>
            <source>Serving · {0} in flight</source>
            <translation>服务中 · {0} 个请求处理中</translation>
        </message>
        <message>
            <source>Serving the model at {0}</source>
            <translation>正在 {0} 提供模型服务</translation>
        </message>
    </context>
    <context>
        <name>ServeDialog</name>
        <message>
            <source>Serve on This Computer</source>
            <translation>在本机提供服务</translation>
        </message>
        <message>
            <source>Other programs (OpenAI or Ollama clients) and a web browser can use the model loaded in vldesk. Their questions take turns with yours.</source>
            <translation>其他程序（OpenAI 或 Ollama 客户端）和网页浏览器可以使用 vldesk 中已加载的模型。它们的提问与您的提问轮流处理。</translation>
        </message>
        <message>
            <source>Address to listen on</source>
            <translation>监听地址</translation>
        </message>
        <message>
            <source>Any free port</source>
            <translation>任意空闲端口</translation>
        </message>
        <message>
            <source>Port</source>
            <translation>端口</translation>
        </message>
        <message>
            <source>API key</source>
            <translation>API 密钥</translation>
        </message>
        <message>
            <source>Needed for any address but 127.0.0.1</source>
            <translation>除 127.0.0.1 外的任何地址都需要</translation>
        </message>
        <message>
            <source>&amp;Generate</source>
            <translation>生成(&amp;G)</translation>
        </message>
        <message>
            <source>Make a new random key</source>
            <translation>生成新的随机密钥</translation>
        </message>
        <message>
            <source>Copy &amp;Key</source>
            <translation>复制密钥(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;Address:</source>
            <translation>地址(&amp;A)：</translation>
        </message>
        <message>
            <source>&amp;Port:</source>
            <translation>端口(&amp;P)：</translation>
        </message>
        <message>
            <source>API &amp;key:</source>
            <translation>API 密钥(&amp;K)：</translation>
        </message>
        <message>
            <source>&amp;Start</source>
            <translation>启动(&amp;S)</translation>
        </message>
        <message>
            <source>Copy A&amp;ddress</source>
            <translation>复制地址(&amp;D)</translation>
        </message>
        <message>
            <source>Only programs on this computer can connect.</source>
            <translation>只有本机上的程序可以连接。</translation>
        </message>
        <message>
            <source>Other computers and phones on your network can connect: they need the API key.</source>
            <translation>同一网络中的其他电脑和手机可以连接：它们需要 API 密钥。</translation>
        </message>
        <message>
            <source>S&amp;top</source>
            <translation>停止(&amp;T)</translation>
        </message>
        <message>
            <source>Serving at {0}</source>
            <translation>服务地址：{0}</translation>
        </message>
        <message>
            <source>OpenAI API: {0}  ·  Ollama API: {1}</source>
            <translation>OpenAI API：{0}  ·  Ollama API：{1}</translation>
        </message>
        <message>
            <source>On a phone or another computer on this network, open {0}</source>
            <translation>在同一网络中的手机或其他电脑上打开 {0}</translation>
        </message>
        <message>
            <source>Clients send the key as “Authorization: Bearer &lt;key&gt;”.</source>
            <translation>客户端以“Authorization: Bearer &lt;key&gt;”发送密钥。</translation>
        </message>
        <message>
            <source>Not serving.</source>
            <translation>未在提供服务。</translation>
        </message>
    </context>
</TS>
